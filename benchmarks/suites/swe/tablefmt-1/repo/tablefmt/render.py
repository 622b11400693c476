"""Rendering rows as a table."""

from collections.abc import Sequence
from typing import Any

from tablefmt.align import column_alignment, pad
from tablefmt.styles import STYLES, Style


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def column_widths(table: list[list[str]]) -> list[int]:
    return [max(len(row[i]) for row in table) for i in range(len(table[0]))]


def _rule(style: Style, widths: list[int], aligns: list[str], header: bool) -> str:
    assert style.rule is not None
    parts = []
    for width, align in zip(widths, aligns):
        dashes = style.rule * (width + 2)
        if header and style.header_rule_marks_alignment and align == "right":
            dashes = dashes[:-1] + ":"
        parts.append(dashes)
    return style.corner + style.corner.join(parts) + style.corner


def render(rows: Sequence[Sequence[Any]], headers: Sequence[Any] | None = None,
           style: str = "grid", align: Sequence[str] | None = None) -> str:
    """The rows as a table. Short rows are padded with empty cells; `align` gives each
    column's alignment ('left', 'right', 'center'), by default from its contents."""
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; use one of {', '.join(STYLES)}")
    look = STYLES[style]
    body = [[_text(v) for v in row] for row in rows]
    head = [_text(h) for h in headers] if headers is not None else None
    ncols = max([len(r) for r in body] + [len(head) if head else 0])
    if ncols == 0:
        return ""
    body = [r + [""] * (ncols - len(r)) for r in body]
    if head is not None:
        head = head + [""] * (ncols - len(head))
    table = ([head] if head else []) + body
    widths = column_widths(table)
    aligns = list(align) if align else [column_alignment([r[i] for r in body])
                                        for i in range(ncols)]

    def line(cells: list[str]) -> str:
        padded = [pad(c, w, a) for c, w, a in zip(cells, widths, aligns)]
        return (look.left + look.sep.join(padded) + look.right).rstrip()

    out = []
    if look.rule and look.outer_rules:
        out.append(_rule(look, widths, aligns, header=False))
    if head is not None:
        out.append(line(head))
        if look.rule:
            out.append(_rule(look, widths, aligns, header=True))
    out.extend(line(r) for r in body)
    if look.rule and look.outer_rules:
        out.append(_rule(look, widths, aligns, header=False))
    return "\n".join(out)
