"""Leap years and month lengths in the Gregorian calendar."""

from leapyear.years import days_in_month, days_in_year, is_leap

__all__ = ["days_in_month", "days_in_year", "is_leap"]
__version__ = "0.9.0"
