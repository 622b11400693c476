import pytest

from leapyear import days_in_month, days_in_year, is_leap


def test_every_fourth_year():
    assert is_leap(2024)
    assert not is_leap(2023)


def test_centuries_are_not_leap_years():
    assert not is_leap(1900)
    assert not is_leap(2100)


def test_days_in_month():
    assert days_in_month(2023, 2) == 28
    assert days_in_month(2024, 2) == 29
    assert days_in_month(2023, 4) == 30
    with pytest.raises(ValueError):
        days_in_month(2023, 13)


def test_days_in_year():
    assert days_in_year(2023) == 365
    assert days_in_year(2024) == 366


def test_year_2000_is_a_leap_year():
    assert is_leap(2000)
