"""Border characters of each style."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Style:
    left: str
    sep: str
    right: str
    rule: str | None  # the character of horizontal rules, None for no rules
    corner: str = "+"
    outer_rules: bool = True  # rules above and below the table
    header_rule_marks_alignment: bool = False  # Markdown's ':---' / '---:'


STYLES = {
    "grid": Style(left="| ", sep=" | ", right=" |", rule="-"),
    "plain": Style(left="", sep="  ", right="", rule=None),
    "markdown": Style(left="| ", sep=" | ", right=" |", rule="-", corner="|",
                      outer_rules=False, header_rule_marks_alignment=True),
}
