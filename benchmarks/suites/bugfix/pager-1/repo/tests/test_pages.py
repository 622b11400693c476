import pytest

from pager import page_count, page_items, page_label


def test_pages_that_divide_evenly():
    assert page_count(30, 10) == 3
    assert page_count(0, 10) == 0


def test_items_on_each_page():
    items = list(range(1, 8))
    assert page_items(items, 1, 3) == [1, 2, 3]
    assert page_items(items, 3, 3) == [7]
    assert page_items(items, 4, 3) == []


def test_bad_arguments():
    with pytest.raises(ValueError):
        page_count(10, 0)
    with pytest.raises(ValueError):
        page_items([1, 2], 0, 1)


def test_label_of_an_empty_listing():
    assert page_label(1, 0, 20) == "Page 1 of 1"


def test_a_partly_filled_last_page_is_counted():
    assert page_count(25, 10) == 3
