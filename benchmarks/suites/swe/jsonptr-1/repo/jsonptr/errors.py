class PointerError(LookupError):
    """A pointer is malformed or names nothing in the document."""


class PatchError(ValueError):
    """A patch operation cannot be applied."""
