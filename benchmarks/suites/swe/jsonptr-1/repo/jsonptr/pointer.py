"""Pointers as text ('/a/b~1c') and as lists of reference tokens (['a', 'b/c'])."""

from jsonptr.errors import PointerError


def escape(token: str) -> str:
    """One reference token written for a pointer: '~' as '~0', '/' as '~1'."""
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """One reference token read from a pointer."""
    if "~" in token.replace("~0", "").replace("~1", ""):
        raise PointerError(f"bad escape in {token!r}: '~' must be followed by 0 or 1")
    return token.replace("~0", "~").replace("~1", "/")


def parse_pointer(pointer: str) -> list[str]:
    """The reference tokens of a pointer; '' is the whole document."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PointerError(f"a pointer starts with '/': {pointer!r}")
    return [unescape(token) for token in pointer[1:].split("/")]


def format_pointer(tokens: list[str]) -> str:
    """The pointer text of a list of reference tokens."""
    return "".join("/" + escape(token) for token in tokens)
