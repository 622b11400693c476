"""Mean, median and spread of a list of numbers."""

from stats.summary import mean, median, spread

__all__ = ["mean", "median", "spread"]
__version__ = "0.2.0"
