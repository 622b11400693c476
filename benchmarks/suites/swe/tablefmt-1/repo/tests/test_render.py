import pytest

from tablefmt import render


def test_grid():
    assert render([["apples", 3], ["kiwis", 12]], headers=["fruit", "n"]) == "\n".join([
        "+--------+----+",
        "| fruit  |  n |",
        "+--------+----+",
        "| apples |  3 |",
        "| kiwis  | 12 |",
        "+--------+----+",
    ])


def test_plain_without_headers():
    assert render([["a", 1.5], ["bb", None]], style="plain") == "a   1.5\nbb"


def test_markdown_marks_numbers():
    assert render([["x", 10]], headers=["k", "v"], style="markdown") == "\n".join([
        "| k |  v |",
        "|---|---:|",
        "| x | 10 |",
    ])


def test_short_rows_and_explicit_alignment():
    out = render([["a"], ["b", "c"]], headers=["one", "two"], align=["center", "right"])
    assert out.splitlines()[3] == "|  a  |     |"
    assert out.splitlines()[4] == "|  b  |   c |"


def test_unknown_style():
    with pytest.raises(ValueError, match="unknown style"):
        render([[1]], style="fancy")
