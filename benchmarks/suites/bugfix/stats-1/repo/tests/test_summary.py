import pytest

from stats import mean, median, spread


def test_mean():
    assert mean([1, 2, 6]) == 3.0
    with pytest.raises(ValueError):
        mean([])


def test_median_of_an_odd_count():
    assert median([5, 1, 3]) == 3
    assert median([7]) == 7
    with pytest.raises(ValueError):
        median([])


def test_spread():
    assert spread([4, -2, 9]) == 11


def test_median_of_an_even_count():
    assert median([4, 1, 3, 2]) == 2.5
