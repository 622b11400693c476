"""A synthesized tool's JSON schema, read from the source of its `main` without running it.

Model-written code never runs in the host process, so the signature is read from the syntax
tree: annotations map to JSON-schema types, literal defaults become defaults, and the docstring
describes the tool and its parameters.
"""

from __future__ import annotations

import ast
from typing import Any

from opensage.core.tools import parse_docstring

SIMPLE = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "dict": "object",
    "list": "array",
    "tuple": "array",
}


class SignatureError(ValueError):
    """The code has no usable `def main(...)`; the message says what to fix."""


def parse_tool(code: str) -> tuple[dict[str, Any], str, list[str]]:
    """(parameters schema, description from the docstring, top-level module names imported)."""
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        raise SignatureError(f"the code does not parse: line {exc.lineno}: {exc.msg}") from None
    mains = [
        n
        for n in tree.body
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == "main"
    ]
    if not mains:
        raise SignatureError("the code must define a top-level function `def main(...)`")
    main = mains[-1]
    summary, arg_docs = parse_docstring(ast.get_docstring(main) or "")
    return schema_of(main, arg_docs), summary, imported_modules(tree)


def schema_of(fn: ast.FunctionDef | ast.AsyncFunctionDef, docs: dict[str, str]) -> dict[str, Any]:
    a = fn.args
    if a.vararg or a.kwarg:
        raise SignatureError("main cannot take *args or **kwargs: name each parameter")
    positional = [*a.posonlyargs, *a.args]
    defaults: dict[str, ast.expr] = dict(
        zip([p.arg for p in positional][::-1], a.defaults[::-1], strict=False)
    )
    defaults.update({p.arg: d for p, d in zip(a.kwonlyargs, a.kw_defaults, strict=True) if d})
    properties: dict[str, Any] = {}
    required = []
    for param in [*positional, *a.kwonlyargs]:
        if param.annotation is None:
            raise SignatureError(f"parameter {param.arg!r} of main needs a type annotation")
        prop = annotation_schema(param.annotation, param.arg)
        if param.arg in docs:
            prop["description"] = docs[param.arg]
        if param.arg in defaults:
            try:
                prop["default"] = ast.literal_eval(defaults[param.arg])
            except ValueError:
                raise SignatureError(f"the default of {param.arg!r} must be a literal") from None
        else:
            required.append(param.arg)
        properties[param.arg] = prop
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = required
    return schema


def annotation_schema(node: ast.expr, where: str) -> dict[str, Any]:
    if isinstance(node, ast.Constant) and node.value is None:
        return {"type": "null"}
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a quoted annotation
        return annotation_schema(ast.parse(node.value, mode="eval").body, where)
    if isinstance(node, ast.Name | ast.Attribute):
        name = node.id if isinstance(node, ast.Name) else node.attr
        if name == "Any":
            return {}
        if name in SIMPLE:
            return {"type": SIMPLE[name]}
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # X | Y
        return {
            "anyOf": [annotation_schema(node.left, where), annotation_schema(node.right, where)]
        }
    if isinstance(node, ast.Subscript):
        outer = (
            node.value.id if isinstance(node.value, ast.Name) else getattr(node.value, "attr", "")
        )
        inner = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if outer in ("list", "List", "Sequence", "set", "Set"):
            return {"type": "array", "items": annotation_schema(inner[0], where)}
        if outer in ("tuple", "Tuple"):
            return {"type": "array"}
        if outer in ("dict", "Dict", "Mapping"):
            return {"type": "object", "additionalProperties": annotation_schema(inner[-1], where)}
        if outer == "Optional":
            return {"anyOf": [annotation_schema(inner[0], where), {"type": "null"}]}
        if outer == "Union":
            return {"anyOf": [annotation_schema(e, where) for e in inner]}
        if outer == "Literal":
            return {"enum": [ast.literal_eval(e) for e in inner]}
    raise SignatureError(
        f"the annotation of {where!r} ({ast.unparse(node)}) is not one a JSON "
        "schema can express: use str, int, float, bool, list[...], dict[str, "
        "...], Literal[...], X | None"
    )


def imported_modules(tree: ast.Module) -> list[str]:
    """Top-level names of the modules the code imports (anywhere in it)."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module.split(".")[0])
    return sorted(set(found))
