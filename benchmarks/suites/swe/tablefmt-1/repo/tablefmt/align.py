"""Cell alignment."""

import re

NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?%?")


def is_number(text: str) -> bool:
    return bool(NUMBER.fullmatch(text.strip()))


def column_alignment(cells: list[str]) -> str:
    """'right' when every non-empty cell of the column is a number, else 'left'."""
    filled = [c for c in cells if c.strip()]
    return "right" if filled and all(is_number(c) for c in filled) else "left"


def pad(text: str, width: int, align: str) -> str:
    """`text` padded with spaces to `width` columns."""
    if align == "right":
        return text.rjust(width)
    if align == "center":
        return text.center(width)
    return text.ljust(width)
