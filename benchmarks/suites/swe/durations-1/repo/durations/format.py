"""Writing durations: 5400 -> '1h 30m'."""

from durations.units import UNITS


def format_duration(seconds: float, *, sep: str = " ", largest: str = "w") -> str:
    """`seconds` written with the largest units first, to the nearest second.

    `largest` is the biggest unit used: format_duration(90000, largest="h") is '25h'.
    """
    if seconds < 0:
        return "-" + format_duration(-seconds, sep=sep, largest=largest)
    names = [name for name, _ in UNITS]
    units = UNITS[names.index(largest):]
    parts = []
    remaining = seconds
    for name, size in units:
        if size == 1:
            count = round(remaining)
        else:
            count = int(remaining // size)
        if count:
            parts.append(f"{count}{name}")
        remaining -= count * size
    return sep.join(parts) or "0s"
