"""How many terminal columns text takes."""

import unicodedata


def char_width(char: str) -> int:
    """0 for combining marks, 2 for wide and full-width characters (CJK), else 1."""
    if unicodedata.combining(char):
        return 0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 2
    return 1


def display_width(text: str) -> int:
    """The columns `text` takes in a terminal (one line)."""
    return sum(char_width(c) for c in text)
