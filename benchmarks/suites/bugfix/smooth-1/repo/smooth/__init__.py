"""Moving averages and running totals of series of readings."""

from smooth.series import changes, cumulative, moving_average

__all__ = ["changes", "cumulative", "moving_average"]
__version__ = "0.4.0"
