"""Closed numeric spans, written (start, end) with start <= end: opening hours, page ranges."""


def clamp(value: float, low: float, high: float) -> float:
    """`value` moved into [low, high]."""
    if low > high:
        raise ValueError(f"empty span: low {low} is above high {high}")
    return min(max(value, low), high)


def contains(span: tuple[float, float], value: float) -> bool:
    """Whether `value` lies in the span, both ends included."""
    start, end = span
    return start <= value <= end


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether the two spans share at least one point (spans that touch do)."""
    return a[0] <= b[1] or b[0] <= a[1]


def length(span: tuple[float, float]) -> float:
    return span[1] - span[0]
