import pytest

from smooth import changes, cumulative, moving_average


def test_window_must_be_positive():
    with pytest.raises(ValueError):
        moving_average([1, 2, 3], 0)


def test_fewer_values_than_the_window():
    assert moving_average([1, 2], 3) == []


def test_cumulative():
    assert cumulative([1, 2, 3]) == [1.0, 3.0, 6.0]
    assert cumulative([]) == []


def test_changes():
    assert changes([3, 5, 4]) == [2, -1]


def test_moving_average_includes_the_last_window():
    assert moving_average([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]
