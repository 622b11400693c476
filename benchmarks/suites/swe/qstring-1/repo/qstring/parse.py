"""Reading query strings."""

from qstring.codec import unquote
from qstring.multidict import MultiDict


def parse_pairs(text: str, *, keep_blank: bool = True, strict: bool = False,
                separator: str = "&") -> list[tuple[str, str]]:
    """The (name, value) pairs of a query string, in order. A leading '?' is ignored; a field
    without '=' has the value ''. `keep_blank=False` drops fields whose value is ''."""
    if text.startswith("?"):
        text = text[1:]
    text = unquote(text, strict=strict)
    pairs = []
    for field in text.split(separator):
        if not field:
            continue
        name, _, value = field.partition("=")
        if value or keep_blank:
            pairs.append((name, value))
    return pairs


def parse(text: str, **options: bool) -> MultiDict:
    """A query string as a MultiDict."""
    return MultiDict(parse_pairs(text, **options))  # type: ignore[arg-type]
