from tablefmt import display_width
from tablefmt.align import column_alignment, is_number


def test_display_width():
    assert display_width("abc") == 3
    assert display_width("東京") == 4
    assert display_width("e\u0301") == 1  # e + combining acute accent


def test_numbers():
    assert is_number("-1.5e3") and is_number("42%") and is_number(" 7 ")
    assert not is_number("1.2.3") and not is_number("")


def test_column_alignment():
    assert column_alignment(["1", "", "2.5"]) == "right"
    assert column_alignment(["1", "x"]) == "left"
    assert column_alignment(["", ""]) == "left"
