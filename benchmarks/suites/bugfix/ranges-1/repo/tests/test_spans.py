import pytest

from ranges import clamp, contains, length, overlaps


def test_clamp():
    assert clamp(12, 0, 10) == 10
    assert clamp(-3, 0, 10) == 0
    assert clamp(4.5, 0, 10) == 4.5
    with pytest.raises(ValueError):
        clamp(1, 5, 2)


def test_contains_includes_both_ends():
    assert contains((1, 5), 1) and contains((1, 5), 5)
    assert not contains((1, 5), 5.5)


def test_spans_that_share_points_overlap():
    assert overlaps((1, 5), (3, 8))
    assert overlaps((3, 4), (1, 3))
    assert overlaps((0, 10), (2, 3))


def test_length():
    assert length((2, 9)) == 7


def test_separate_spans_do_not_overlap():
    assert not overlaps((1, 3), (5, 8))
