"""`symbols` and `references`: a repository map and identifier uses from a real parser.

tree-sitter (with the grammars that `tree-sitter-language-pack` bundles in its wheel: nothing is
downloaded) parses Python, C, C++, JavaScript, TypeScript (and TSX), Go, Rust and Java on the
host: a parser executes nothing of what it reads. Files are found by `walk_files` (no symlink
followed; hidden and .gitignore'd files skipped) and read through the files kit's
`open_regular`; huge and binary files are skipped. A `CodeIndex` keeps each file's symbols by
(path, mtime, size), so a second call on a large repository only looks at what changed.

`parse_errors(path, text)` reports a file's syntax errors, for the edit tools' warning on
languages other than Python.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from opensage.core.tools import ToolError
from opensage.kits.files import read_regular
from opensage.kits.output import LIMIT
from opensage.kits.swe.ignore import WalkedFile, shown_path, walk_files
from opensage.kits.swe.search import existing, path_order

MAX_PARSE_BYTES = 1 << 20  # larger source files are generated or vendored: skipped
BINARY_SNIFF = 8192
MAX_OUTPUT_CHARS = LIMIT - 1_000  # so that the answer ends with our own note
MAX_DEFINITIONS = 50
MAX_REFERENCES = 200
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
# Kinds whose members are methods; `impl` (Rust) is a container only, never listed itself.
CONTAINERS = frozenset(
    {
        "class",
        "struct",
        "interface",
        "trait",
        "enum",
        "union",
        "record",
        "namespace",
        "module",
        "impl",
    }
)
TYPES = CONTAINERS - {"namespace", "module", "impl"}
FUNCTIONS = frozenset({"function", "method", "constructor", "declaration", "macro"})
_NAME_TYPES = frozenset(
    {
        "identifier",
        "field_identifier",
        "type_identifier",
        "qualified_identifier",
        "destructor_name",
        "operator_name",
        "template_function",
        "template_method",
        "operator_cast",
    }
)
_IDENTIFIER = re.compile(r"(?:[^\W\d]|\$)[\w$]*")


class Symbol(NamedTuple):
    kind: str  # class, struct, interface, trait, enum, union, record, type, function, method...
    name: str
    container: str  # the qualified name of the enclosing class (or struct, impl...), or ""
    line: int  # 1-based, where the definition starts
    end_line: int
    name_line: int  # where the name itself is (a reference there is the definition)
    name_column: int  # in bytes
    local: bool  # defined inside a function: left out of the map, found by name
    depth: int  # how many listed definitions it is written inside (0: the file's top level)

    @property
    def qualified(self) -> str:
        return f"{self.container}.{self.name}" if self.container else self.name


@dataclass(slots=True)
class _Entry:
    mtime_ns: int
    size: int
    symbols: tuple[Symbol, ...]
    language: str | None  # None: skipped (binary, huge, unreadable)


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
def _query(name: str) -> Any:
    language = _language(name)  # first: it says what to install
    from tree_sitter import Query

    return Query(language, QUERIES[name])


def _new_parser(name: str) -> Any:
    language = _language(name)
    from tree_sitter import Parser

    return Parser(language)


def _parse(parsers: dict[str, Any], language: str, data: bytes) -> tuple[Any, str]:
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


def _declared_name(node: Any) -> Any:
    """The name inside a C/C++ declarator (through pointers, references, function and array
    declarators)."""
    for _ in range(16):
        if node is None or node.type in _NAME_TYPES:
            return node
        inner = node.child_by_field_name("declarator")
        if inner is None:
            inner = next(
                (c for c in node.named_children if c.type in _NAME_TYPES or "declarator" in c.type),
                None,
            )
        node = inner
    return None


def _declares_function(node: Any) -> bool:
    """Whether a declarator declares a function (`int *f(void)`), not a variable."""
    for _ in range(16):
        if node is None:
            return False
        if node.type == "function_declarator":
            return True
        node = node.child_by_field_name("declarator")
    return False


def _text(node: Any) -> str:
    return (node.text or b"").decode(errors="replace")


def _go_receiver(node: Any) -> str:
    receiver = node.child_by_field_name("receiver")
    if receiver is None:
        return ""
    found = re.search(r"\*?\s*([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*\)\s*$", _text(receiver))
    return found.group(1) if found else ""


def extract_symbols(tree: Any, language: str) -> tuple[Symbol, ...]:
    """The definitions in a parsed file, in source order, each with its container."""
    from tree_sitter import QueryCursor

    found: dict[int, tuple[int, str, Any, Any]] = {}  # def node id -> pattern, kind, def, name
    for pattern, captures in QueryCursor(_query(language)).matches(tree.root_node):
        kind = next((k[4:] for k in captures if k.startswith("def.")), None)
        if kind is None:
            continue
        node = captures[f"def.{kind}"][0]
        if node.id in found and found[node.id][0] <= pattern:
            continue  # a more specific pattern (a Go struct before a type) came first
        if "name" in captures:
            name_node = captures["name"][0]
        else:
            declarator = captures["declarator"][0]
            if kind == "declaration" and not _declares_function(declarator):
                continue  # a variable: int *p;
            name_node = _declared_name(declarator)
            if name_node is None:
                continue
        found[node.id] = (pattern, kind, node, name_node)
    defs = sorted(found.values(), key=lambda d: (d[2].start_byte, -d[2].end_byte))
    # def node id -> kind, qualified name, the depth of what is written inside it
    by_id: dict[int, tuple[str, str, int]] = {}
    symbols = []
    for _, kind, node, name_node in defs:
        name = _text(name_node)
        container, local, depth = "", False, 0
        if kind == "impl":
            name = re.sub(r"<.*", "", name).strip() or name
        parent = node.parent
        while parent is not None:
            if parent.id in by_id:
                parent_kind, parent_name, depth = by_id[parent.id]
                if parent_kind in CONTAINERS:
                    container = parent_name
                else:
                    local = True
                break
            parent = parent.parent
        if "::" in name:  # C++ out of line: A::f, ns::A::~A
            scope, _, name = name.rpartition("::")
            container = (
                f"{container}.{scope.replace('::', '.')}" if container else scope.replace("::", ".")
            )
        if kind == "method" and language == "go" and not container:
            container = _go_receiver(node)
        if kind == "function" and container and not local:
            kind = "method"
        if kind == "declaration" and container:
            kind = "method"  # declared in a class body
        qualified = f"{container}.{name}" if container else name
        by_id[node.id] = (kind, qualified, depth if kind == "impl" else depth + 1)
        if kind == "impl":
            continue  # a container: its methods carry its name
        symbols.append(
            Symbol(
                kind,
                name,
                container,
                node.start_point[0] + 1,
                node.end_point[0] + 1,
                name_node.start_point[0] + 1,
                name_node.start_point[1],
                local,
                depth,
            )
        )
    return tuple(symbols)


class CodeIndex:
    """The run's parse cache: each file's symbols, kept by (path, mtime, size). `parses` counts
    the files parsed so far. Safe to share between threads (one call at a time)."""

    def __init__(self, *, max_file_bytes: int = MAX_PARSE_BYTES):
        self.max_file_bytes = max_file_bytes
        self.parses = 0
        self._files: dict[str, _Entry] = {}
        self._parsers: dict[str, Any] = {}
        self.lock = threading.Lock()

    def __len__(self) -> int:
        """How many files the cache holds."""
        return len(self._files)

    def _read(self, root: Path, rel: str) -> bytes | None:
        data = read_regular(root, root / rel, self.max_file_bytes + 1)
        if data is None or len(data) > self.max_file_bytes or b"\0" in data[:BINARY_SNIFF]:
            return None
        return data

    def parse(self, root: Path, rel: str, language: str) -> tuple[Any, str, bytes] | None:
        """A fresh parse of one file: the tree, its language and its bytes (None: unreadable,
        binary or huge)."""
        data = self._read(root, rel)
        if data is None:
            return None
        self.parses += 1
        tree, language = _parse(self._parsers, language, data)
        return tree, language, data

    def entry(self, root: Path, walked: WalkedFile) -> _Entry:
        key = f"{root}/{walked.rel}"  # as files() forms it; pathlib costs a third of a warm map
        entry = self._files.get(key)
        if entry is not None and (entry.mtime_ns, entry.size) == (walked.mtime_ns, walked.size):
            return entry
        language = language_of(walked.rel)
        parsed = None
        if language is not None and walked.size <= self.max_file_bytes:
            parsed = self.parse(root, walked.rel, language)
        if parsed is None:
            entry = _Entry(walked.mtime_ns, walked.size, (), None)
        else:
            tree, language, _ = parsed
            entry = _Entry(walked.mtime_ns, walked.size, extract_symbols(tree, language), language)
        self._files[key] = entry
        return entry

    def files(
        self, root: Path, base: Path, exclude: Iterable[Path] = ()
    ) -> list[tuple[str, _Entry]]:
        """Each source file under `base` with its (cached or fresh) entry, in path order."""
        root = root.resolve()
        files = [
            (walked.rel, self.entry(root, walked))
            for walked in walk_files(
                root, base, exclude=exclude, keep=lambda name: language_of(name) is not None
            )
        ]
        if base == root:  # a whole walk: forget the files that are gone
            prefix = f"{root}/"
            seen = {f"{prefix}{rel}" for rel, _ in files}
            self._files = {
                k: e for k, e in self._files.items() if k in seen or not k.startswith(prefix)
            }
        return files


# --- symbols --------------------------------------------------------------------------------


def _span(symbol: Symbol) -> str:
    return (
        f"{symbol.line}" if symbol.end_line == symbol.line else f"{symbol.line}-{symbol.end_line}"
    )


def _file_map(rel: str, symbols: tuple[Symbol, ...]) -> list[str]:
    lines = [rel]
    for s in symbols:
        if s.local:
            continue
        # Written inside its class: its own name; elsewhere (a Go method, a Rust impl, C++
        # out of line): the qualified name.
        shown = s.name if s.depth else s.qualified
        lines.append(f"{'  ' * (s.depth + 1)}{s.kind} {shown}  [{_span(s)}]")
    return lines


def _source_line(index: CodeIndex, root: Path, rel: str, line: int) -> str:
    data = index._read(root, rel)
    if data is None:
        return ""
    lines = data.split(b"\n", line)
    text = lines[line - 1].decode(errors="replace").strip() if len(lines) >= line else ""
    return text if len(text) <= 200 else text[:200] + "…"


def symbols(
    root: Path,
    index: CodeIndex,
    path: str = ".",
    name: str | None = None,
    *,
    home: Path | None = None,
) -> str:
    """The `symbols` tool (described in `opensage.kits.swe`) over the work dir `root`, parses
    kept in `index`; OpenSage's `home`, when it lies in the work dir, is refused and skipped.
    CPU-bound: the kit runs it in a worker thread."""
    root = root.resolve()
    base = existing(root, path, home)
    exclude = [home] if home is not None else []
    where = shown_path(root, base)
    if base.is_file() and language_of(base.name) is None:
        raise ToolError(
            f"{where!r} is not a source file of a language symbols knows "
            f"({LANGUAGE_NAMES}); use view or search for it"
        )
    with index.lock:
        files = index.files(root, base, exclude)
    parsed = [(rel, e) for rel, e in files if e.language is not None]
    if name is not None:
        return _definitions(root, index, parsed, name.strip(), where)
    out: list[str] = []
    size = 0
    shown_files = 0
    total = sum(1 for _, e in parsed if any(not s.local for s in e.symbols))
    for rel, entry in parsed:
        if not any(not s.local for s in entry.symbols):
            continue
        block = _file_map(rel, entry.symbols)
        chars = sum(len(b) + 1 for b in block)
        if size + chars > MAX_OUTPUT_CHARS and out:
            break
        if chars > MAX_OUTPUT_CHARS:  # one file alone is too long: its first symbols
            kept = _fitting(block, MAX_OUTPUT_CHARS)
            out += [
                *kept,
                f"[{len(block) - len(kept)} more symbols of {rel}; "
                "symbols(path, name) finds one of them]",
            ]
            shown_files += 1
            break
        out += block
        size += chars
        shown_files += 1
    if not out:
        return (
            f"no classes or functions found in {where} ({len(parsed)} source files of "
            f"{LANGUAGE_NAMES} parsed; hidden and .gitignore'd files skipped)"
        )
    if shown_files < total:
        out.append(
            f"[{total - shown_files} more files with symbols not shown; {_narrower(parsed, where)}]"
        )
    return "\n".join(out)


def _fitting(lines: list[str], budget: int) -> list[str]:
    """The first of `lines` that fit in `budget` characters (at least one)."""
    size = 0
    for count, line in enumerate(lines):
        size += len(line) + 1
        if size > budget and count:
            return lines[:count]
    return lines


def _narrower(parsed: list[tuple[str, _Entry]], where: str) -> str:
    """Advice for a map that did not fit: the subfolders of `where` by their symbol count."""
    prefix = "" if where == "." else f"{where}/"
    counts: Counter[str] = Counter()
    for rel, entry in parsed:
        rest = rel[len(prefix) :].split("/")
        if len(rest) > 1:
            counts[prefix + rest[0]] += sum(not s.local for s in entry.symbols)
    if not counts:
        return "ask for one file with path, or a symbol with name"
    folders = ", ".join(f"{f} ({n})" for f, n in counts.most_common(12))
    return f"call symbols with a narrower path, e.g. one of: {folders}"


def _definitions(
    root: Path, index: CodeIndex, parsed: list[tuple[str, _Entry]], name: str, where: str
) -> str:
    wanted = name.replace("::", ".")
    qualified = "." in wanted
    hits = [
        (rel, s)
        for rel, entry in parsed
        for s in entry.symbols
        if (
            s.qualified == wanted or s.qualified.endswith("." + wanted)
            if qualified
            else s.name == wanted
        )
    ]
    if not hits:
        last = wanted.rpartition(".")[2].lower()
        near = sorted(
            {s.qualified for _, e in parsed for s in e.symbols if last and last in s.name.lower()}
        )[:10]
        hint = f" Similar names: {', '.join(near)}." if near else ""
        return (
            f"no definition of {name!r} found in {where} ({len(parsed)} source files "
            f"parsed).{hint} search finds it as text, e.g. in a language not parsed here."
        )
    hits.sort(key=lambda h: (h[1].kind == "declaration", h[1].local, path_order(h[0])))
    out = [f"{len(hits)} definition{'s' if len(hits) != 1 else ''} of {name!r}:"]
    size, listed = 0, 0
    for rel, s in hits[:MAX_DEFINITIONS]:
        if size > MAX_OUTPUT_CHARS:
            break
        local = " (local)" if s.local else ""
        out.append(f"{rel}:{s.line}: {s.kind} {s.qualified}{local}  [{_span(s)}]")
        text = _source_line(index, root, rel, s.name_line)
        if text:
            out.append(f"    {text}")
        size += len(out[-1]) + len(out[-2]) + 2
        listed += 1
    if len(hits) > listed:
        out.append(
            f"[{len(hits) - listed} more; give a narrower path or a qualified "
            "name such as 'Class.method']"
        )
    return "\n".join(out)


# --- references -----------------------------------------------------------------------------


def references(
    root: Path, index: CodeIndex, name: str, path: str = ".", *, home: Path | None = None
) -> str:
    """The `references` tool (described in `opensage.kits.swe`) over the work dir `root`,
    parses kept in `index`; OpenSage's `home`, when it lies in the work dir, is refused and
    skipped. CPU-bound: the kit runs it in a worker thread."""
    root = root.resolve()
    name = name.strip()
    note = ""
    if "." in name or "::" in name:
        name = re.split(r"\.|::", name)[-1]
        note = f" (the last part of a qualified name: {name!r})"
    if not _IDENTIFIER.fullmatch(name):
        raise ToolError(
            f"{name!r} is not an identifier; give one name such as 'parse_config' "
            "(search finds any text)"
        )
    base = existing(root, path, home)
    exclude = [home] if home is not None else []
    where = shown_path(root, base)
    raw = name.encode()
    word = re.compile(rb"(?<![\w$])" + re.escape(raw) + rb"(?![\w$])")

    def mentions(data: bytes | None) -> bool:  # `in` first: far faster than the regex
        return data is not None and raw in data and word.search(data) is not None

    found: list[tuple[str, int, str, bool]] = []
    files_with = 0
    unchecked = 0
    with index.lock:
        entries = index.files(root, base, exclude)
        for rel, entry in entries:
            if entry.language is None:
                continue
            if len(found) >= MAX_REFERENCES:
                unchecked += mentions(index._read(root, rel))
                continue
            if not mentions(index._read(root, rel)):
                continue
            parsed = index.parse(root, rel, entry.language)
            if parsed is None:
                continue
            tree, _, data = parsed
            definitions = {(s.name_line, s.name_column) for s in entry.symbols}
            lines = data.split(b"\n")
            seen_lines: set[int] = set()
            hit = False
            for m in word.finditer(data):
                node = tree.root_node.descendant_for_byte_range(m.start(), m.end())
                if node is None or node.start_byte != m.start() or node.end_byte != m.end():
                    continue  # inside a longer token: a string, a comment
                if not node.type.endswith("identifier") and node.type not in _NAME_TYPES:
                    continue
                row, column = node.start_point
                hit = True
                if row + 1 in seen_lines:
                    continue
                seen_lines.add(row + 1)
                text = lines[row].decode(errors="replace").strip()
                found.append(
                    (
                        rel,
                        row + 1,
                        text if len(text) <= 200 else text[:200] + "…",
                        (row + 1, column) in definitions,
                    )
                )
            files_with += hit
    if not found:
        return (
            f"no reference to {name!r}{note} in {where} (identifiers in the syntax trees "
            f"of {LANGUAGE_NAMES} files; comments and strings left out)"
        )
    listed = [
        f"{rel}:{line}: {text}{'   (definition)' if is_def else ''}"
        for rel, line, text, is_def in found[:MAX_REFERENCES]
    ]
    shown = _fitting(listed, MAX_OUTPUT_CHARS)
    more = "+" if unchecked else ""
    out = [
        f"{len(found)}{more} line{'s' if len(found) != 1 else ''} using {name!r}{note} in "
        f"{files_with}{more} file{'s' if files_with != 1 or more else ''} (from the syntax "
        "tree: comments and strings left out)",
        *shown,
    ]
    if len(shown) < len(listed):
        out.append(
            f"[{len(found) - len(shown)} more lines not shown: the answer is as long as "
            "one may be; give a narrower path]"
        )
    elif len(found) > len(shown) or unchecked:
        rest = (
            f"{unchecked} more files contain the word and were not checked"
            if unchecked
            else f"{len(found) - len(shown)} more lines not shown"
        )
        out.append(f"[stopped at {MAX_REFERENCES} lines: {rest}; give a narrower path]")
    return "\n".join(out)


# --- syntax errors --------------------------------------------------------------------------


def parse_errors(path: str, text: str) -> list[tuple[int, str]]:
    """Syntax errors in `text`, the content of a file named `path`, as (line, message), line
    1-based; [] for a file that parses, or a language not known here (see EXTENSIONS)."""
    language = language_of(path)
    if language is None or not available():
        return []
    parsers: dict[str, Any] = {}
    tree, _ = _parse(parsers, language, text.encode())
    if not tree.root_node.has_error:
        return []
    errors: list[tuple[int, str]] = []
    stack = [tree.root_node]
    while stack and len(errors) < MAX_PARSE_ERRORS:
        node = stack.pop()
        if node.is_missing:
            errors.append((node.start_point[0] + 1, f"missing {node.type!r}"))
        elif node.is_error:
            snippet = _text(node).strip().splitlines()
            near = snippet[0][:40] if snippet else ""
            errors.append(
                (node.start_point[0] + 1, f"syntax error near {near!r}" if near else "syntax error")
            )
        elif node.has_error:
            stack.extend(reversed(node.children))
    return sorted(errors)
