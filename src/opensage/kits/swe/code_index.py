"""`CodeIndex`: each source file's definitions (`Symbol`s), read from its syntax tree and kept by
(path, mtime, size), so that a second `symbols` or `references` call on a large repository only
parses what changed. Files are found by `walk_files` (no symlink followed; hidden and
.gitignore'd files skipped) and read through the files kit's `open_regular`; huge and binary
files are skipped.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from opensage.kits.files import read_regular
from opensage.kits.swe.grammars import language_of, node_text, parse_source, query
from opensage.kits.swe.ignore import WalkedFile, walk_files

MAX_PARSE_BYTES = 1 << 20  # larger source files are generated or vendored: skipped
BINARY_SNIFF = 8192

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
NAME_TYPES = frozenset(
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

    def named(self, wanted: str) -> bool:
        """Whether `wanted` names it: 'parse' its name, 'Parser.parse' (with '.' or '::') the
        end of its qualified name."""
        wanted = wanted.replace("::", ".")
        if "." not in wanted:
            return self.name == wanted
        return self.qualified == wanted or self.qualified.endswith("." + wanted)


@dataclass(slots=True)
class Entry:
    mtime_ns: int
    size: int
    symbols: tuple[Symbol, ...]
    language: str | None  # None: skipped (binary, huge, unreadable)


def _declared_name(node: Any) -> Any:
    """The name inside a C/C++ declarator (through pointers, references, function and array
    declarators)."""
    for _ in range(16):
        if node is None or node.type in NAME_TYPES:
            return node
        inner = node.child_by_field_name("declarator")
        if inner is None:
            inner = next(
                (c for c in node.named_children if c.type in NAME_TYPES or "declarator" in c.type),
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


def _go_receiver(node: Any) -> str:
    receiver = node.child_by_field_name("receiver")
    if receiver is None:
        return ""
    found = re.search(r"\*?\s*([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*\)\s*$", node_text(receiver))
    return found.group(1) if found else ""


def extract_symbols(tree: Any, language: str) -> tuple[Symbol, ...]:
    """The definitions in a parsed file, in source order, each with its container."""
    from tree_sitter import QueryCursor

    found: dict[int, tuple[int, str, Any, Any]] = {}  # def node id -> pattern, kind, def, name
    for pattern, captures in QueryCursor(query(language)).matches(tree.root_node):
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
        name = node_text(name_node)
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
        self._files: dict[str, Entry] = {}
        self._parsers: dict[str, Any] = {}
        self.lock = threading.Lock()

    def __len__(self) -> int:
        """How many files the cache holds."""
        return len(self._files)

    def read(self, root: Path, rel: str) -> bytes | None:
        data = read_regular(root, root / rel, self.max_file_bytes + 1)
        if data is None or len(data) > self.max_file_bytes or b"\0" in data[:BINARY_SNIFF]:
            return None
        return data

    def parse(self, root: Path, rel: str, language: str) -> tuple[Any, str, bytes] | None:
        """A fresh parse of one file: the tree, its language and its bytes (None: unreadable,
        binary or huge)."""
        data = self.read(root, rel)
        if data is None:
            return None
        self.parses += 1
        tree, language = parse_source(self._parsers, language, data)
        return tree, language, data

    def entry(self, root: Path, walked: WalkedFile) -> Entry:
        key = f"{root}/{walked.rel}"  # as files() forms it; pathlib costs a third of a warm map
        entry = self._files.get(key)
        if entry is not None and (entry.mtime_ns, entry.size) == (walked.mtime_ns, walked.size):
            return entry
        language = language_of(walked.rel)
        parsed = None
        if language is not None and walked.size <= self.max_file_bytes:
            parsed = self.parse(root, walked.rel, language)
        if parsed is None:
            entry = Entry(walked.mtime_ns, walked.size, (), None)
        else:
            tree, language, _ = parsed
            entry = Entry(walked.mtime_ns, walked.size, extract_symbols(tree, language), language)
        self._files[key] = entry
        return entry

    def files(
        self, root: Path, base: Path, exclude: Iterable[Path] = ()
    ) -> list[tuple[str, Entry]]:
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
