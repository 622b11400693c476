class PatchError(Exception):
    """A malformed patch, or a hunk that does not apply."""
