"""`search`: regex or literal search over the work dir, with ripgrep run in the sandbox.

ripgrep (the `ripgrep` wheel installs `rg` beside this Python, which the bwrap sandbox sees;
the container image has Debian's) honours `.gitignore`, skips hidden and binary files and is
fast on large trees; its `--json` output is parsed here. Where the sandbox has no `rg`, a
Python fallback searches on the host, reading each file through the files kit's
no-symlink-escape open and honouring `.gitignore`, `.ignore` and `.git/info/exclude` files.
The answer says which of the two ran.

This module also holds what the host-side readers of the kit share: `inside` (a path argument
checked to lie in the work dir), `IgnoreRules` (gitignore patterns) and `walk_files` (a walk
that follows no symlink and skips what is hidden or ignored).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.files import open_beneath, open_regular
from opensage.sandbox.base import Sandbox, SandboxLimits

MAX_RESULTS = 1000  # the most matching lines one call may ask for
MAX_CONTEXT = 20
MAX_LINE_CHARS = 300  # a longer line (minified code) is cut in the answer
MAX_FALLBACK_FILE_BYTES = 50 << 20
BINARY_SNIFF = 8192
RG_MISSING = 127
# `rg` by name: the bwrap sandbox puts this Python's bin/ (where the wheel installs it) first on
# PATH, a container image has it in /usr/bin. 127 says it is not there, whatever the backend.
RG_WRAPPER = 'command -v rg >/dev/null 2>&1 || exit 127; exec rg "$@"'


# --- paths ----------------------------------------------------------------------------------


def inside(root: Path, path: str, exclude: Iterable[Path] = ()) -> Path:
    """`path` (relative to the work dir `root`, or absolute) resolved, symlinks included; a
    `ToolError` if it leads outside `root`, into an excluded folder (OpenSage's home), or to
    nothing."""
    root = root.resolve()
    target = (root / path).resolve()
    if target != root and root not in target.parents:
        raise ToolError(f"{path!r} is outside the work directory; give a path inside it "
                        "(relative paths start at the work directory)")
    for excluded in exclude:
        excluded = excluded.resolve()
        if target == excluded or excluded in target.parents:
            raise ToolError(f"{path!r} is in OpenSage's home, which no tool may read; "
                            "search the other files")
    if not target.exists():
        raise ToolError(f"{path!r} does not exist in the work directory; `view` a folder "
                        "to see what is there")
    return target


def shown_path(root: Path, target: Path) -> str:
    rel = target.relative_to(root.resolve()).as_posix()
    return "." if rel == "." else rel


# --- gitignore patterns ---------------------------------------------------------------------


def glob_regex(pattern: str) -> tuple[str, bool]:
    """A gitignore-style glob as a regex over a `/`-separated path relative to the folder the
    pattern belongs to, and whether it names only folders (a trailing `/`). A pattern with no
    `/` but a trailing one matches at any depth; `**` spans folders (`docs/**` matches what is
    in docs, not docs itself, as in git); `{a,b}` is accepted too (ripgrep's globs have it)."""
    dir_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    anchored = "/" in pattern
    pattern = pattern.lstrip("/")
    out: list[str] = []
    i, n, braces = 0, len(pattern), 0
    while i < n:
        c = pattern[i]
        if pattern.startswith("**", i):
            before = i == 0 or pattern[i - 1] == "/"
            after = i + 2 == n or pattern[i + 2] == "/"
            if before and after:
                if i + 2 == n:  # a trailing /**: everything inside
                    out.append(".*")
                    i += 2
                else:  # **/ : zero or more folders
                    out.append("(?:.*/)?")
                    i += 3
                continue
            out.append("[^/]*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 2 if pattern[i + 1:i + 2] in ("!", "^") else i + 1)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:end]
                if body[:1] in ("!", "^"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        elif c == "{":
            braces += 1
            out.append("(?:")
        elif c == "}" and braces:
            braces -= 1
            out.append(")")
        elif c == "," and braces:
            out.append("|")
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    out.append(")" * braces)
    body = "".join(out)
    return (body if anchored else "(?:.*/)?" + body), dir_only


@dataclass(slots=True)
class IgnoreRules:
    """The patterns of the ignore files of one folder (`base`, relative to the work dir, "" for
    the work dir itself), last match wins, `!` re-includes."""

    base: str
    rules: list[tuple[re.Pattern[str], bool, bool]] = field(default_factory=list)

    def add(self, text: str) -> None:
        for line in text.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            line = line.rstrip(" ") if not line.endswith("\\ ") else line
            negated = line.startswith("!")
            if negated or line.startswith("\\"):  # \! and \# stand for themselves
                line = line[1:]
            regex, dir_only = glob_regex(line)
            with contextlib.suppress(re.error):
                self.rules.append((re.compile(regex + r"\Z", re.DOTALL), negated, dir_only))

    def match(self, rel: str, is_dir: bool) -> bool | None:
        """True if ignored, False if re-included, None if no pattern here speaks of `rel`."""
        sub = rel[len(self.base) + 1:] if self.base else rel
        for regex, negated, dir_only in reversed(self.rules):
            if dir_only and not is_dir:
                continue
            if regex.match(sub):
                return not negated
        return None


IGNORE_FILES = (".gitignore", ".ignore", ".rgignore")


def ignored(levels: list[IgnoreRules], rel: str, is_dir: bool) -> bool:
    for level in reversed(levels):  # the deepest folder's file speaks first
        verdict = level.match(rel, is_dir)
        if verdict is not None:
            return verdict
    return False


def _read_small(root: Path, target: Path, limit: int = 1 << 20) -> str | None:
    try:
        fd = open_regular(root, target, os.O_RDONLY | os.O_NONBLOCK, str(target))
    except (OSError, PermissionError):
        return None
    with os.fdopen(fd, "rb") as file:
        return file.read(limit).decode(errors="replace")


def _rules_of(root: Path, folder: Path, rel: str,
              names: Iterable[str] = IGNORE_FILES) -> IgnoreRules | None:
    """The patterns of the ignore files `names` (relative paths) of `folder`."""
    level = IgnoreRules(rel)
    for name in names:
        text = _read_small(root, folder / name)
        if text:
            level.add(text)
    return level if level.rules else None


# --- the walk -------------------------------------------------------------------------------


@dataclass(slots=True)
class WalkedFile:
    rel: str  # relative to the work dir, `/`-separated
    size: int
    mtime_ns: int


def walk_files(root: Path, base: Path, *, exclude: Iterable[Path] = (),
               keep: Callable[[str], bool] | None = None,
               max_depth: int = 64) -> Iterator[WalkedFile]:
    """The regular files under `base` (a checked path under the work dir `root`; a file gives
    itself), in path order, skipping hidden entries, symlinks, excluded folders and what the
    ignore files (.gitignore, .ignore, .git/info/exclude) ignore. Folders are opened one at a
    time from their parent's descriptor without following symlinks, so a folder swapped for a
    symlink during the walk is not followed. `keep(name)` filters files by name before they
    are looked at (cheap: an extension test)."""
    root = root.resolve()
    excluded = {p.resolve() for p in exclude}
    if base.is_file() and not base.is_symlink():
        st = base.lstat()
        yield WalkedFile(shown_path(root, base), st.st_size, st.st_mtime_ns)
        return
    levels: list[IgnoreRules] = []
    # The ignore files of the folders from the work dir down to `base` apply too.
    parts = base.relative_to(root).parts
    for depth in range(len(parts)):  # `base`'s own files are read by the walk
        rel = "/".join(parts[:depth])
        folder = root.joinpath(*parts[:depth])
        for names in ([".git/info/exclude"], IGNORE_FILES) if depth == 0 else (IGNORE_FILES,):
            level = _rules_of(root, folder, rel, names)
            if level:
                levels.append(level)
    if base == root:
        level = _rules_of(root, root, "", [".git/info/exclude"])
        if level:
            levels.append(level)
    try:
        fd = (os.open(root, os.O_RDONLY | os.O_DIRECTORY) if base == root
              else open_beneath(root, base, os.O_RDONLY | os.O_DIRECTORY))
    except OSError:
        return
    start = "" if base == root else shown_path(root, base)
    yield from _walk(root, fd, start, levels, excluded, keep, max_depth)


def _walk(root: Path, fd: int, rel: str, levels: list[IgnoreRules], excluded: set[Path],
          keep: Callable[[str], bool] | None, depth: int) -> Iterator[WalkedFile]:
    try:
        with os.scandir(fd) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        os.close(fd)
        return
    # This folder's own ignore files speak for its entries (read only where they exist).
    present = [e.name for e in entries if e.name in IGNORE_FILES
               and e.is_file(follow_symlinks=False)]
    if present:
        level = _rules_of(root, root / rel if rel else root, rel, present)
        if level:
            levels = [*levels, level]
    try:
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            child = f"{rel}/{name}" if rel else name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                if not is_dir and not entry.is_file(follow_symlinks=False):
                    continue  # symlinks, FIFOs, sockets, devices
            except OSError:
                continue
            if not is_dir and keep is not None and not keep(name):
                continue
            if levels and ignored(levels, child, is_dir):
                continue
            if excluded and (root / child) in excluded:
                continue
            if is_dir:
                if depth <= 0:
                    continue
                try:
                    sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                                  dir_fd=fd)
                except OSError:
                    continue
                yield from _walk(root, sub, child, levels, excluded, keep, depth - 1)
            else:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                yield WalkedFile(child, st.st_size, st.st_mtime_ns)
    finally:
        os.close(fd)


# --- results --------------------------------------------------------------------------------


@dataclass(slots=True)
class Line:
    path: str
    number: int
    text: str
    match: bool
    start: int = 0  # where the first match begins in text, in characters


@dataclass(slots=True)
class Found:
    lines: list[Line]  # matches and context lines, any order
    matched_lines: int  # in all, including those not in `lines` (output cut)
    files: int  # with a match
    engine: str  # what ran, as the answer names it
    notes: list[str] = field(default_factory=list)


def _cut(text: str, start: int = 0) -> str:
    """A line as shown: a long one (minified code) cut to a window around its match."""
    text = text.rstrip("\r\n")
    if len(text) <= MAX_LINE_CHARS:
        return text
    begin = max(0, min(start - MAX_LINE_CHARS // 3, len(text) - MAX_LINE_CHARS))
    end = begin + MAX_LINE_CHARS
    return (("…" if begin else "") + text[begin:end] + ("…" if end < len(text) else "")
            + f" [line of {len(text)} characters cut]")


def path_order(path: str) -> list[str]:
    """A folder's files in the order a walk visits them (`a/b` before `a.py`)."""
    return path.split("/")


def render(found: Found, pattern: str, where: str, max_results: int, context: int) -> str:
    """Matches as `path:line: text`, context lines as `path-line- text`, groups apart with
    `--`, in path order, at most `max_results` matching lines."""
    if not found.matched_lines:
        notes = "".join(f"\n{n}" for n in found.notes)
        return (f"no match for {pattern!r} in {where} ({found.engine}; .gitignore'd and "
                f"hidden files skipped){notes}")
    by_file: dict[str, dict[int, Line]] = {}
    for line in found.lines:
        seen = by_file.setdefault(line.path, {})
        if line.number not in seen or line.match:
            seen[line.number] = line
    out: list[str] = []
    shown = 0
    for path in sorted(by_file, key=path_order):
        if shown >= max_results:
            break
        previous = None
        after = 0  # context lines still to show after the last shown match
        for number in sorted(by_file[path]):
            line = by_file[path][number]
            if shown >= max_results and (line.match or after <= 0):
                break
            if context and out and (previous is None or number != previous + 1):
                out.append("--")  # between groups of lines, as grep -C does
            sep = ":" if line.match else "-"
            out.append(f"{path}{sep}{number}{sep} {_cut(line.text, line.start)}")
            previous = number
            if line.match:
                shown += 1
                after = context
            else:
                after -= 1
    head = (f"{found.matched_lines} matching line{'s' if found.matched_lines != 1 else ''} "
            f"in {found.files} file{'s' if found.files != 1 else ''} ({found.engine})")
    more = found.matched_lines - shown
    tail = [f"[{more} more matches; narrow the pattern or the path (or a glob), or raise "
            f"max_results (at most {MAX_RESULTS})]"] if more > 0 else []
    return "\n".join([head, *out, *tail, *found.notes])


# --- ripgrep --------------------------------------------------------------------------------


def rg_arguments(pattern: str, target: str, glob: str | None, fixed_strings: bool,
                 context: int) -> list[str]:
    args = ["--json", "--no-config", "--no-require-git", "--no-messages"]
    if fixed_strings:
        args.append("--fixed-strings")
    if context:
        args += ["--context", str(context)]
    if glob:
        args += ["--glob", glob]
    return [*args, "--regexp", pattern, "--", target]


def _text(value: dict[str, str] | None) -> str:
    if not value:
        return ""
    if "text" in value:
        return value["text"]
    return base64.b64decode(value.get("bytes", "")).decode(errors="replace")


def parse_rg_json(stdout: str) -> tuple[list[Line], int | None, int | None]:
    """ripgrep's `--json` messages -> the lines, and the summary's matched-line and file counts
    (None where the summary is missing). A line that is not JSON (the sandbox's mark where it
    cut a long output) is skipped."""
    lines: list[Line] = []
    matched = files = None
    for raw in stdout.splitlines():
        if not raw.startswith("{"):
            continue
        try:
            message = json.loads(raw)
        except ValueError:
            continue
        kind, data = message.get("type"), message.get("data") or {}
        if kind in ("match", "context"):
            path = os.path.normpath(_text(data.get("path")))
            text = _text(data.get("lines"))
            submatches = data.get("submatches") or [{}]
            start = int(submatches[0].get("start") or 0)  # in bytes
            if start and not text.isascii():
                start = len(text.encode()[:start].decode(errors="ignore"))
            lines.append(Line(Path(path).as_posix(), int(data.get("line_number") or 0),
                              text, kind == "match", start))
        elif kind == "summary":
            stats = data.get("stats") or {}
            matched, files = stats.get("matched_lines"), stats.get("searches_with_match")
    return lines, matched, files


async def search(root: Path, sandbox: Sandbox | None, pattern: str, path: str = ".",
                 glob: str | None = None, fixed_strings: bool = False, context: int = 0,
                 max_results: int = 100, *, limits: SandboxLimits | None = None,
                 exclude: Iterable[Path] = (), timeout_s: float = 120.0) -> str:
    """Search file contents for a regex (or a literal string with fixed_strings) and return
    matching lines as `path:line: text`, with context lines as `path-line- text`. Files that
    .gitignore ignores, hidden files and binary files are skipped. Regex syntax is Rust's
    (like Python's re; `(?i)` for case-insensitive).

    Args:
        pattern: the regex, or the exact text with fixed_strings=true.
        path: a folder or file to search, relative to the work directory.
        glob: only files matching this glob, e.g. '*.py', 'src/**/*.{c,h}'; '!*.md' excludes.
        fixed_strings: treat pattern as literal text (no regex metacharacters).
        context: lines of context to show before and after each match (at most 20).
        max_results: the most matching lines to show (at most 1000).
    """
    if not pattern:
        raise ToolError("pattern is empty; give the text or regex to look for")
    root = root.resolve()
    target = inside(root, path, exclude)
    where = shown_path(root, target)
    context = max(0, min(int(context), MAX_CONTEXT))
    max_results = max(1, min(int(max_results), MAX_RESULTS))
    found = None
    if sandbox is not None:
        found = await search_rg(root, sandbox, pattern, where, glob, fixed_strings, context,
                                limits=limits, timeout_s=timeout_s)
    if found is None:
        found = await asyncio.to_thread(search_python, root, target, pattern, glob,
                                        fixed_strings, context, max_results, exclude=exclude)
    return render(found, pattern, where, max_results, context)


async def search_rg(root: Path, sandbox: Sandbox, pattern: str, where: str, glob: str | None,
                    fixed_strings: bool, context: int, *, limits: SandboxLimits | None = None,
                    timeout_s: float = 120.0) -> Found | None:
    """ripgrep in the sandbox; None when the sandbox has no `rg`."""
    argv = ["/bin/sh", "-c", RG_WRAPPER, "rg",
            *rg_arguments(pattern, where, glob, fixed_strings, context)]
    result = await sandbox.exec(argv, workdir=root, timeout_s=timeout_s, limits=limits)
    if result.exit_code == RG_MISSING and not result.stdout:
        return None
    if result.timed_out:
        raise ToolError(f"the search ran past {timeout_s:g} s and was stopped; search a "
                        "narrower path or add a glob")
    lines, matched, files = parse_rg_json(result.stdout)
    if result.exit_code == 2 and not lines:
        message = result.stderr.strip() or f"ripgrep failed (exit code {result.exit_code})"
        hint = ("; for literal text (parentheses, brackets, dots...) use fixed_strings=true"
                if "regex" in message else "")
        raise ToolError(f"{message}{hint}")
    notes = []
    if result.stdout_truncated:
        notes.append("[the output was too long to read whole; the counts are right, some "
                     "matches are missing: narrow the pattern or the path]")
    if result.limit:
        notes.append(f"[ripgrep was stopped by the sandbox's {result.limit} limit; results "
                     "may be incomplete]")
    if matched is None:
        matched = sum(line.match for line in lines)
        files = len({line.path for line in lines if line.match})
    return Found(lines, matched, files or 0, "ripgrep", notes)


# --- the Python fallback --------------------------------------------------------------------


def _is_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_SNIFF]


def search_python(root: Path, target: Path, pattern: str, glob: str | None,
                  fixed_strings: bool, context: int, max_results: int, *,
                  exclude: Iterable[Path] = ()) -> Found:
    """The search on the host in Python, for where the sandbox has no ripgrep. Files are read
    with the files kit's `open_regular` (no symlink followed); the walk is `walk_files`."""
    try:
        regex = re.compile(re.escape(pattern) if fixed_strings else pattern)
    except re.error as exc:
        raise ToolError(f"regex parse error: {exc}; for literal text (parentheses, brackets, "
                        "dots...) use fixed_strings=true") from None
    include = exclude_glob = None
    if glob:
        negated = glob.startswith("!")
        body, _ = glob_regex(glob[1:] if negated else glob)
        compiled = re.compile(body + r"\Z", re.DOTALL)
        include, exclude_glob = (None, compiled) if negated else (compiled, None)
    lines: list[Line] = []
    matched = files = 0
    skipped = []
    for walked in walk_files(root, target, exclude=exclude):
        if include is not None and not include.match(walked.rel):
            continue
        if exclude_glob is not None and exclude_glob.match(walked.rel):
            continue
        if walked.size > MAX_FALLBACK_FILE_BYTES:
            skipped.append(walked.rel)
            continue
        try:
            fd = open_regular(root, root / walked.rel, os.O_RDONLY | os.O_NONBLOCK, walked.rel)
        except (OSError, PermissionError):
            continue
        with os.fdopen(fd, "rb") as file:
            data = file.read(MAX_FALLBACK_FILE_BYTES)
        if _is_binary(data):
            continue
        text = data.decode(errors="replace").splitlines()
        starts = {}
        for i, line in enumerate(text):
            found = regex.search(line)
            if found:
                starts[i] = found.start()
        hits = sorted(starts)
        if not hits:
            continue
        files += 1
        matched += len(hits)
        if len(lines) >= max_results * (1 + 2 * context):
            continue  # only counted: render shows max_results matches at most
        wanted: set[int] = set()
        for i in hits:
            wanted.update(range(max(0, i - context), min(len(text), i + context + 1)))
        lines += [Line(walked.rel, i + 1, text[i], i in starts, starts.get(i, 0))
                  for i in sorted(wanted)]
    notes = [f"[skipped, larger than {MAX_FALLBACK_FILE_BYTES >> 20} MB: "
             f"{', '.join(skipped[:5])}{' ...' if len(skipped) > 5 else ''}]"] if skipped else []
    return Found(lines, matched, files,
                 "Python fallback: ripgrep is not available in the sandbox", notes)
