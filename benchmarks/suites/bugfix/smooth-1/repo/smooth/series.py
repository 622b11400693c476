"""Smoothing and summing series of readings (one value per time step)."""


def moving_average(values: list[float], window: int) -> list[float]:
    """The mean of every run of `window` consecutive values, in order."""
    if window < 1:
        raise ValueError("window must be at least 1")
    return [sum(values[i : i + window]) / window for i in range(len(values) - window)]


def cumulative(values: list[float]) -> list[float]:
    """The running total after each value."""
    total = 0.0
    out = []
    for value in values:
        total += value
        out.append(total)
    return out


def changes(values: list[float]) -> list[float]:
    """The difference between each value and the one before it."""
    return [b - a for a, b in zip(values, values[1:])]
