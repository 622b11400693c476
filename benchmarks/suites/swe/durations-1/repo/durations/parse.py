"""Reading durations: '1h30m', '2 days 4h', '90s', '1.5h'."""

import re

from durations.units import SECONDS, canonical

TOKEN = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*,?")


class DurationError(ValueError):
    """The text is not a duration."""


def parse(text: str) -> float:
    """The number of seconds `text` stands for."""
    text = text.strip()
    if not text:
        raise DurationError("empty duration")
    sign = 1
    if text[0] in "+-":
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return sign * float(text)  # a bare number is seconds
    total = 0.0
    pos = 0
    seen = set()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if match is None:
            raise DurationError(f"cannot read {text[pos:]!r}")
        value, unit = match.groups()
        try:
            name = canonical(unit)
        except KeyError:
            raise DurationError(f"unknown unit {unit!r}") from None
        if name in seen:
            raise DurationError(f"unit {name!r} given twice")
        seen.add(name)
        total += float(value) * SECONDS[name]
        pos = match.end()
    return sign * total
