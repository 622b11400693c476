"""`search`: regex or literal search over the work dir, with ripgrep run in the sandbox.

ripgrep (the `ripgrep` wheel installs `rg` beside this Python, which the bwrap sandbox sees;
the container image has Debian's) honours `.gitignore`, skips hidden and binary files and is
fast on large trees; its `--json` output is parsed here. Where the sandbox has no `rg`, a
Python fallback searches on the host, reading each file through the files kit's
no-symlink-escape open and honouring `.gitignore`, `.ignore` and `.git/info/exclude` files.
The answer says which of the two ran.

Paths are checked with the files kit's `resolve_inside`; the walk and the ignore rules are
the `ignore` module's.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.files import open_regular, resolve_inside
from opensage.kits.output import LIMIT
from opensage.kits.swe.ignore import glob_regex, shown_path, walk_files
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


def existing(root: Path, path: str, home: Path | None = None) -> Path:
    """`resolve_inside`, and a `ToolError` if `path` names nothing."""
    target = resolve_inside(root, path, home)
    if not target.exists():
        raise ToolError(
            f"{path!r} does not exist in the work directory; `view` a folder to see what is there"
        )
    return target


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
    return (
        ("…" if begin else "")
        + text[begin:end]
        + ("…" if end < len(text) else "")
        + f" [line of {len(text)} characters cut]"
    )


def path_order(path: str) -> list[str]:
    """A folder's files in the order a walk visits them (`a/b` before `a.py`)."""
    return path.split("/")


def render(
    found: Found,
    pattern: str,
    where: str,
    max_results: int,
    context: int,
    budget: int = LIMIT - 1_000,
) -> str:
    """Matches as `path:line: text`, context lines as `path-line- text`, groups apart with
    `--`, in path order, at most `max_results` matching lines and about `budget` characters."""
    if not found.matched_lines:
        notes = "".join(f"\n{n}" for n in found.notes)
        return (
            f"no match for {pattern!r} in {where} ({found.engine}; .gitignore'd and "
            f"hidden files skipped){notes}"
        )
    by_file: dict[str, dict[int, Line]] = {}
    for line in found.lines:
        seen = by_file.setdefault(line.path, {})
        if line.number not in seen or line.match:
            seen[line.number] = line
    out: list[str] = []
    shown = size = 0
    full = False  # the answer reached its size limit before max_results
    for path in sorted(by_file, key=path_order):
        if shown >= max_results or full:
            break
        previous = None
        after = 0  # context lines still to show after the last shown match
        for number in sorted(by_file[path]):
            line = by_file[path][number]
            if shown >= max_results and (line.match or after <= 0):
                break
            if line.match and size > budget:
                full = True
                break
            if context and out and (previous is None or number != previous + 1):
                out.append("--")  # between groups of lines, as grep -C does
            sep = ":" if line.match else "-"
            out.append(f"{path}{sep}{number}{sep} {_cut(line.text, line.start)}")
            size += len(out[-1]) + 1
            previous = number
            if line.match:
                shown += 1
                after = context
            else:
                after -= 1
    head = (
        f"{found.matched_lines} matching line{'s' if found.matched_lines != 1 else ''} "
        f"in {found.files} file{'s' if found.files != 1 else ''} ({found.engine})"
    )
    more = found.matched_lines - shown
    if full:
        tail = [
            f"[{more} more matches not shown: the answer is as long as one may be; narrow "
            "the pattern or the path, add a glob, or lower context]"
        ]
    else:
        tail = (
            [
                f"[{more} more matches; narrow the pattern or the path (or a glob), or raise "
                f"max_results (at most {MAX_RESULTS})]"
            ]
            if more > 0
            else []
        )
    return "\n".join([head, *out, *tail, *found.notes])


# --- ripgrep --------------------------------------------------------------------------------


def rg_arguments(
    pattern: str, target: str, glob: str | None, fixed_strings: bool, context: int
) -> list[str]:
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
            lines.append(
                Line(
                    Path(path).as_posix(),
                    int(data.get("line_number") or 0),
                    text,
                    kind == "match",
                    start,
                )
            )
        elif kind == "summary":
            stats = data.get("stats") or {}
            matched, files = stats.get("matched_lines"), stats.get("searches_with_match")
    return lines, matched, files


async def search(
    root: Path,
    sandbox: Sandbox | None,
    pattern: str,
    path: str = ".",
    glob: str | None = None,
    fixed_strings: bool = False,
    context: int = 0,
    max_results: int = 100,
    *,
    limits: SandboxLimits | None = None,
    home: Path | None = None,
    timeout_s: float = 120.0,
) -> str:
    """The `search` tool (described in `opensage.kits.swe`) over the work dir `root`: ripgrep
    in `sandbox`, or the Python fallback when it is None or has no rg. OpenSage's `home`, when
    it lies in the work dir, is refused as a path and left out of the walk."""
    if not pattern:
        raise ToolError("pattern is empty; give the text or regex to look for")
    root = root.resolve()
    target = existing(root, path, home)
    where = shown_path(root, target)
    context = max(0, min(int(context), MAX_CONTEXT))
    max_results = max(1, min(int(max_results), MAX_RESULTS))
    found = None
    if sandbox is not None:
        found = await search_rg(
            root,
            sandbox,
            pattern,
            where,
            glob,
            fixed_strings,
            context,
            limits=limits,
            timeout_s=timeout_s,
        )
    if found is None:
        found = await asyncio.to_thread(
            search_python,
            root,
            target,
            pattern,
            glob,
            fixed_strings,
            context,
            max_results,
            exclude=[home] if home is not None else [],
        )
    return render(found, pattern, where, max_results, context)


async def search_rg(
    root: Path,
    sandbox: Sandbox,
    pattern: str,
    where: str,
    glob: str | None,
    fixed_strings: bool,
    context: int,
    *,
    limits: SandboxLimits | None = None,
    timeout_s: float = 120.0,
) -> Found | None:
    """ripgrep in the sandbox; None when the sandbox has no `rg`."""
    argv = [
        "/bin/sh",
        "-c",
        RG_WRAPPER,
        "rg",
        *rg_arguments(pattern, where, glob, fixed_strings, context),
    ]
    result = await sandbox.exec(argv, workdir=root, timeout_s=timeout_s, limits=limits)
    if result.exit_code == RG_MISSING and not result.stdout:
        return None
    if result.timed_out:
        raise ToolError(
            f"the search ran past {timeout_s:g} s and was stopped; search a "
            "narrower path or add a glob"
        )
    lines, matched, files = parse_rg_json(result.stdout)
    if result.exit_code == 2 and not lines:
        message = result.stderr.strip() or f"ripgrep failed (exit code {result.exit_code})"
        hint = (
            "; for literal text (parentheses, brackets, dots...) use fixed_strings=true"
            if "regex" in message
            else ""
        )
        raise ToolError(f"{message}{hint}")
    notes = []
    if result.stdout_truncated:
        notes.append(
            "[the output was too long to read whole; the counts are right, some "
            "matches are missing: narrow the pattern or the path]"
        )
    if result.limit:
        notes.append(
            f"[ripgrep was stopped by the sandbox's {result.limit} limit; results "
            "may be incomplete]"
        )
    if matched is None:
        matched = sum(line.match for line in lines)
        files = len({line.path for line in lines if line.match})
    return Found(lines, matched, files or 0, "ripgrep", notes)


# --- the Python fallback --------------------------------------------------------------------


def _is_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_SNIFF]


def search_python(
    root: Path,
    target: Path,
    pattern: str,
    glob: str | None,
    fixed_strings: bool,
    context: int,
    max_results: int,
    *,
    exclude: Iterable[Path] = (),
) -> Found:
    """The search on the host in Python, for where the sandbox has no ripgrep. Files are read
    with the files kit's `open_regular` (no symlink followed); the walk is `walk_files`."""
    try:
        regex = re.compile(re.escape(pattern) if fixed_strings else pattern)
    except re.error as exc:
        raise ToolError(
            f"regex parse error: {exc}; for literal text (parentheses, brackets, "
            "dots...) use fixed_strings=true"
        ) from None
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
        lines += [
            Line(walked.rel, i + 1, text[i], i in starts, starts.get(i, 0)) for i in sorted(wanted)
        ]
    notes = (
        [
            f"[skipped, larger than {MAX_FALLBACK_FILE_BYTES >> 20} MB: "
            f"{', '.join(skipped[:5])}{' ...' if len(skipped) > 5 else ''}]"
        ]
        if skipped
        else []
    )
    return Found(
        lines, matched, files, "Python fallback: ripgrep is not available in the sandbox", notes
    )
