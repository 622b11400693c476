"""`symbols` and `references`: a repository map and identifier uses from a real parser
(tree-sitter, on the host: see `grammars`), over the parses a `CodeIndex` keeps."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.output import LIMIT
from opensage.kits.swe.code_index import NAME_TYPES, CodeIndex, Entry, Symbol
from opensage.kits.swe.grammars import LANGUAGE_NAMES, language_of
from opensage.kits.swe.ignore import shown_path
from opensage.kits.swe.search import existing, path_order
from opensage.kits.swe.text import printable

MAX_OUTPUT_CHARS = LIMIT - 1_000  # so that the answer ends with our own note
MAX_DEFINITIONS = 50
MAX_REFERENCES = 200
SHOWN_LINES = 80  # a single definition up to this long is shown whole
_IDENTIFIER = re.compile(r"(?:[^\W\d]|\$)[\w$]*")


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
    data = index.read(root, rel)
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


def _narrower(parsed: list[tuple[str, Entry]], where: str) -> str:
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
    root: Path, index: CodeIndex, parsed: list[tuple[str, Entry]], name: str, where: str
) -> str:
    wanted = name.replace("::", ".")
    hits = [(rel, s) for rel, entry in parsed for s in entry.symbols if s.named(wanted)]
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
    if len(hits) == 1:  # the one definition: shown whole, when it is short
        rel, s = hits[0]
        source = _source_lines(index, root, rel, s.line, s.end_line)
        if source:  # fenced: small models copied the line above it into their code
            fence = "```" + (language_of(rel) or "")
            out[1:] = [f"{rel}:{s.line}-{s.end_line}: {s.kind} {s.qualified}", fence, source]
            out.append("```")
    return "\n".join(out)


def _source_lines(index: CodeIndex, root: Path, rel: str, first: int, last: int) -> str:
    """Lines first..last of a file as they are, without numbers (small models copied the
    numbers into the code they wrote back); "" past SHOWN_LINES."""
    data = index.read(root, rel)
    if data is None or last - first + 1 > SHOWN_LINES:
        return ""
    lines = data.decode(errors="replace").split("\n")[first - 1 : last]
    return "\n".join(printable(line) for line in lines)


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
                unchecked += mentions(index.read(root, rel))
                continue
            if not mentions(index.read(root, rel)):
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
                if not node.type.endswith("identifier") and node.type not in NAME_TYPES:
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
