"""The add, remove, replace and test operations of JSON Patch."""

import copy
from typing import Any

from jsonptr.errors import PatchError, PointerError
from jsonptr.pointer import parse_pointer
from jsonptr.resolve import array_index, resolve


def _parent(document: Any, path: str) -> tuple[Any, str]:
    tokens = parse_pointer(path)
    if not tokens:
        raise PatchError("this operation needs a path below the document's root")
    return resolve(document, tokens[:-1]), tokens[-1]


def _add(document: Any, path: str, value: Any) -> Any:
    if path == "":
        return value
    parent, key = _parent(document, path)
    if isinstance(parent, dict):
        parent[key] = value
    elif isinstance(parent, list):
        parent.insert(array_index(key, len(parent), allow_end=True), value)
    else:
        raise PatchError(f"cannot add to a {type(parent).__name__}")
    return document


def _remove(document: Any, path: str) -> Any:
    parent, key = _parent(document, path)
    if isinstance(parent, dict):
        if key not in parent:
            raise PatchError(f"nothing to remove at {path!r}")
        del parent[key]
    elif isinstance(parent, list):
        del parent[array_index(key, len(parent))]
    else:
        raise PatchError(f"cannot remove from a {type(parent).__name__}")
    return document


def apply_patch(document: Any, operations: list[dict[str, Any]]) -> Any:
    """A patched copy of `document`; the original is left as it was."""
    result = copy.deepcopy(document)
    for number, op in enumerate(operations):
        try:
            kind, path = op["op"], op["path"]
            if kind == "add":
                result = _add(result, path, copy.deepcopy(op["value"]))
            elif kind == "remove":
                result = _remove(result, path)
            elif kind == "replace":
                result = _remove(result, path) if path else result
                result = _add(result, path, copy.deepcopy(op["value"]))
            elif kind == "test":
                if resolve(result, path) != op["value"]:
                    raise PatchError(f"test failed at {path!r}")
            else:
                raise PatchError(f"unknown operation {kind!r}")
        except (PatchError, PointerError, KeyError) as exc:
            raise PatchError(f"operation {number} ({op.get('op')}): {exc}") from None
    return result
