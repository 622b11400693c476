"""The languages `symbols` and `references` read, and tree-sitter to read them: the grammars
that `tree-sitter-language-pack` bundles in its wheel (nothing is downloaded), loaded on first
use, and one query per language that finds its definitions. A parser runs on the host and
executes nothing of what it reads.

`parse_errors(path, text)` reports a file's syntax errors, for the edit tools' warning on
languages other than Python.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from opensage.core.tools import ToolError

MAX_PARSE_ERRORS = 20

EXTENSIONS = {
    ".py": "python",
    ".pyi": "python",
    ".c": "c",
    ".h": "c",  # a .h that C cannot parse is tried as C++
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".c++": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
    ".h++": "cpp",
    ".ipp": "cpp",
    ".tpp": "cpp",
    ".inl": "cpp",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
}
LANGUAGE_NAMES = "Python, C, C++, JavaScript, TypeScript, Go, Rust, Java"

# Definitions, one tree-sitter query per language: `@def.KIND` is the whole definition, `@name`
# its name, or `@declarator` a C/C++ declarator whose innermost name is the name.
_C_COMMON = """
(function_definition declarator: (_) @declarator) @def.function
(declaration declarator: [(function_declarator) (pointer_declarator)] @declarator)
  @def.declaration
(struct_specifier name: (_) @name body: (field_declaration_list)) @def.struct
(union_specifier name: (_) @name body: (field_declaration_list)) @def.union
(enum_specifier name: (_) @name body: (enumerator_list)) @def.enum
(type_definition declarator: (type_identifier) @name) @def.type
"""
_JS_COMMON = """
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(method_definition name: (_) @name) @def.method
(variable_declarator name: (identifier) @name
  value: [(arrow_function) (function_expression)]) @def.function
(variable_declarator name: (identifier) @name value: (class)) @def.class
"""
QUERIES = {
    "python": """
(class_definition name: (identifier) @name) @def.class
(function_definition name: (identifier) @name) @def.function
""",
    "c": _C_COMMON,
    "cpp": _C_COMMON
    + """
(field_declaration declarator: [(function_declarator) (pointer_declarator)
  (reference_declarator)] @declarator) @def.declaration
(declaration declarator: (reference_declarator) @declarator) @def.declaration
(class_specifier name: (_) @name body: (field_declaration_list)) @def.class
(namespace_definition name: (_) @name) @def.namespace
(alias_declaration name: (type_identifier) @name) @def.type
""",
    "javascript": _JS_COMMON
    + """
(class_declaration name: (identifier) @name) @def.class
""",
    "typescript": _JS_COMMON
    + """
(class_declaration name: (type_identifier) @name) @def.class
(abstract_class_declaration name: (type_identifier) @name) @def.class
(interface_declaration name: (type_identifier) @name) @def.interface
(type_alias_declaration name: (type_identifier) @name) @def.type
(enum_declaration name: (identifier) @name) @def.enum
(method_signature name: (_) @name) @def.method
(abstract_method_signature name: (_) @name) @def.method
(function_signature name: (identifier) @name) @def.function
(internal_module name: (_) @name) @def.namespace
""",
    "go": """
(function_declaration name: (identifier) @name) @def.function
(method_declaration name: (field_identifier) @name) @def.method
(type_spec name: (type_identifier) @name type: (struct_type)) @def.struct
(type_spec name: (type_identifier) @name type: (interface_type)) @def.interface
(type_spec name: (type_identifier) @name) @def.type
(type_alias name: (type_identifier) @name) @def.type
(method_elem name: (field_identifier) @name) @def.method
""",
    "rust": """
(struct_item name: (type_identifier) @name) @def.struct
(enum_item name: (type_identifier) @name) @def.enum
(union_item name: (type_identifier) @name) @def.union
(trait_item name: (type_identifier) @name) @def.trait
(type_item name: (type_identifier) @name) @def.type
(function_item name: (identifier) @name) @def.function
(function_signature_item name: (identifier) @name) @def.method
(mod_item name: (identifier) @name) @def.module
(macro_definition name: (identifier) @name) @def.macro
(impl_item type: (_) @name) @def.impl
""",
    "java": """
(class_declaration name: (identifier) @name) @def.class
(interface_declaration name: (identifier) @name) @def.interface
(enum_declaration name: (identifier) @name) @def.enum
(record_declaration name: (identifier) @name) @def.record
(annotation_type_declaration name: (identifier) @name) @def.interface
(method_declaration name: (identifier) @name) @def.method
(constructor_declaration name: (identifier) @name) @def.constructor
""",
}
QUERIES["tsx"] = QUERIES["typescript"]


def language_of(path: str) -> str | None:
    return EXTENSIONS.get(os.path.splitext(path)[1].lower())


NOT_INSTALLED = (
    "symbols and references need the tree-sitter grammars, which are not "
    "installed here (pip install 'opensage[swe]'); use search meanwhile"
)


@functools.cache
def _language(name: str) -> Any:
    try:
        from tree_sitter_language_pack import get_language
    except ImportError:
        raise ToolError(NOT_INSTALLED) from None
    return get_language(name)  # type: ignore[arg-type]


def available() -> bool:
    """Whether the parser and its grammars are installed (the `swe` extra)."""
    try:
        import tree_sitter  # noqa: F401
        import tree_sitter_language_pack  # noqa: F401
    except ImportError:
        return False
    return True


@functools.cache
def query(name: str) -> Any:
    language = _language(name)  # first: it says what to install
    from tree_sitter import Query

    return Query(language, QUERIES[name])


def _new_parser(name: str) -> Any:
    language = _language(name)
    from tree_sitter import Parser

    return Parser(language)


def parse_source(parsers: dict[str, Any], language: str, data: bytes) -> tuple[Any, str]:
    """The tree and the language it was parsed as: a `.h` that C cannot parse is C++."""
    if language not in parsers:
        parsers[language] = _new_parser(language)
    tree = parsers[language].parse(data)
    if language == "c" and tree.root_node.has_error:
        if "cpp" not in parsers:
            parsers["cpp"] = _new_parser("cpp")
        other = parsers["cpp"].parse(data)
        if not other.root_node.has_error:
            return other, "cpp"
    return tree, language


def node_text(node: Any) -> str:
    return (node.text or b"").decode(errors="replace")


def parse_errors(path: str, text: str) -> list[tuple[int, str]]:
    """Syntax errors in `text`, the content of a file named `path`, as (line, message), line
    1-based; [] for a file that parses, or a language not known here (see EXTENSIONS)."""
    language = language_of(path)
    if language is None or not available():
        return []
    parsers: dict[str, Any] = {}
    tree, _ = parse_source(parsers, language, text.encode())
    if not tree.root_node.has_error:
        return []
    errors: list[tuple[int, str]] = []
    stack = [tree.root_node]
    while stack and len(errors) < MAX_PARSE_ERRORS:
        node = stack.pop()
        if node.is_missing:
            errors.append((node.start_point[0] + 1, f"missing {node.type!r}"))
        elif node.is_error:
            snippet = node_text(node).strip().splitlines()
            near = snippet[0][:40] if snippet else ""
            errors.append(
                (node.start_point[0] + 1, f"syntax error near {near!r}" if near else "syntax error")
            )
        elif node.has_error:
            stack.extend(reversed(node.children))
    return sorted(errors)
