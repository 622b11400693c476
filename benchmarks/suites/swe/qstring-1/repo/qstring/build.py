"""Writing query strings."""

from collections.abc import Iterable, Mapping

from qstring.codec import quote
from qstring.multidict import MultiDict

Fields = Mapping[str, "str | int | Iterable[str | int]"] | Iterable[tuple[str, str]] | MultiDict


def _pairs(fields: Fields) -> list[tuple[str, str]]:
    if isinstance(fields, MultiDict):
        return fields.items()
    if isinstance(fields, Mapping):
        pairs = []
        for key, value in fields.items():
            if isinstance(value, (str, int)):
                pairs.append((key, str(value)))
            else:
                pairs.extend((key, str(v)) for v in value)
        return pairs
    return [(str(k), str(v)) for k, v in fields]


def build(fields: Fields, separator: str = "&") -> str:
    """A query string (without '?') from a mapping, a list of pairs or a MultiDict."""
    return separator.join(f"{quote(k)}={quote(v)}" for k, v in _pairs(fields))
