"""Closed numeric spans: clamp, contains, overlaps."""

from ranges.spans import clamp, contains, length, overlaps

__all__ = ["clamp", "contains", "length", "overlaps"]
__version__ = "0.3.0"
