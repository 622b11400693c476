"""Ranges: comparators joined by spaces (all must hold), alternatives joined by '||'.

Comparators: =, >, >=, <, <=, ^ (compatible: same major, or same minor under 1.0.0),
~ (same minor). A partial version such as `1.2` or `1` stands for `.0` in the missing parts.
"""

import operator
import re
from collections.abc import Callable

from semverlite.version import InvalidVersion, Version, coerce

COMPARATOR = re.compile(r"(\^|~|>=|<=|>|<|=)?\s*v?(\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.-]+)?)")
OPS: dict[str, Callable[[Version, Version], bool]] = {
    "=": operator.eq, ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le,
}


def _complete(text: str) -> tuple[Version, int]:
    """A partial version completed with zeros, and how many parts it gave."""
    core, dash, pre = text.partition("-")
    parts = core.split(".")
    given = len(parts)
    parts += ["0"] * (3 - given)
    return Version.parse(".".join(parts) + (dash + pre if dash else "")), given


def _bounds(op: str, base: Version, given: int) -> list[tuple[str, Version]]:
    if op == "^":
        if base.major > 0 or given == 1:
            upper = Version(base.major + 1, 0, 0)
        elif base.minor > 0 or given == 2:
            upper = Version(0, base.minor + 1, 0)
        else:
            upper = Version(0, 0, base.patch + 1)
        return [(">=", base), ("<", upper)]
    if op == "~":
        upper = Version(base.major + 1, 0, 0) if given == 1 else Version(base.major,
                                                                        base.minor + 1, 0)
        return [(">=", base), ("<", upper)]
    return [(op, base)]


def _holds(version: Version, conjunction: str) -> bool:
    pos, conditions = 0, []
    text = conjunction.strip()
    while pos < len(text):
        match = COMPARATOR.match(text, pos)
        if match is None:
            raise InvalidVersion(f"cannot read range {conjunction!r} at {text[pos:]!r}")
        op, ver = match.groups()
        base, given = _complete(ver)
        conditions += _bounds(op or "=", base, given)
        pos = match.end()
        while pos < len(text) and text[pos] in " ,":
            pos += 1
    return all(OPS[op](version, bound) for op, bound in conditions)


def satisfies(version: "str | Version", spec: str) -> bool:
    """Whether `version` is in the range `spec`."""
    v = coerce(version)
    return any(_holds(v, alternative) for alternative in spec.split("||"))
