"""JSON Pointer and a subset of JSON Patch."""

from jsonptr.errors import PatchError, PointerError
from jsonptr.patch import apply_patch
from jsonptr.pointer import format_pointer, parse_pointer
from jsonptr.resolve import resolve

__all__ = ["PatchError", "PointerError", "apply_patch", "format_pointer", "parse_pointer",
           "resolve"]
