"""Looking a pointer up in a document."""

from typing import Any

from jsonptr.errors import PointerError
from jsonptr.pointer import format_pointer, parse_pointer


def array_index(token: str, length: int, *, allow_end: bool = False) -> int:
    """The list index a token names: digits without leading zeros, or '-' (one past the end)
    where `allow_end` is set."""
    if token == "-" and allow_end:
        return length
    if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
        raise PointerError(f"{token!r} is not an array index")
    index = int(token)
    if index >= length + (1 if allow_end else 0):
        raise PointerError(f"index {index} is out of range (length {length})")
    return index


def step(value: Any, token: str) -> Any:
    if isinstance(value, dict):
        if token not in value:
            raise PointerError(f"no member {token!r}")
        return value[token]
    if isinstance(value, list):
        return value[array_index(token, len(value))]
    raise PointerError(f"cannot look up {token!r} in a {type(value).__name__}")


def resolve(document: Any, pointer: str | list[str]) -> Any:
    """The value `pointer` names in `document`."""
    tokens = parse_pointer(pointer) if isinstance(pointer, str) else pointer
    value = document
    for depth, token in enumerate(tokens):
        try:
            value = step(value, token)
        except PointerError as exc:
            where = format_pointer(tokens[:depth]) or "the document"
            raise PointerError(f"{exc} (at {where})") from None
    return value
