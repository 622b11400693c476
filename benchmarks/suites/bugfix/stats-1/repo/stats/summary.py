"""Summaries of a list of numbers: mean, median and spread."""


def mean(values: list[float]) -> float:
    if not values:
        raise ValueError("the mean of an empty list is undefined")
    return sum(values) / len(values)


def median(values: list[float]) -> float:
    """The middle value; for an even count, the mean of the two middle values."""
    if not values:
        raise ValueError("the median of an empty list is undefined")
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid] + ordered[mid + 1]) / 2


def spread(values: list[float]) -> float:
    """The distance between the largest and the smallest value."""
    return max(values) - min(values)
