"""Parse and format human durations."""

from durations.format import format_duration
from durations.parse import DurationError, parse

__all__ = ["DurationError", "format_duration", "parse"]
__version__ = "0.4.1"
