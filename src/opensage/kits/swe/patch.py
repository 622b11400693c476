"""The patches `apply_patch` reads, in two formats, into one model (`FilePatch`, `Hunk`):
- the unified diff `git diff` writes (several files; new, deleted, renamed and copied files; mode
  changes), and the plainer `diff -u` output. Hunk line counts are trusted when they fit and
  repaired when a model miscounted; a blank line in a hunk is an empty context line whose
  leading space was lost.
- the `*** Begin Patch` / `*** Update File:` / `*** Add File:` / `*** Delete File:` /
  `*** Move to:` / `*** End Patch` format some hosted models are trained to write, whose chunks
  are placed by their context lines (and `@@ text` anchors) rather than by line numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from opensage.kits.swe.text import decode

HUNK_HEADER = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)")


class PatchError(Exception):
    """The patch text cannot be read; the message says where and why."""


@dataclass
class Hunk:
    lines: list[tuple[str, str]]  # (" ", "-" or "+", the line with its ending)
    header: str = ""  # as written, for reports
    old_start: int | None = None  # the stated first line (unified diffs)
    old_count: int | None = None
    anchors: list[str] = field(default_factory=list)  # `@@ text` lines that place it
    at_eof: bool = False  # `*** End of File`: it ends at the end of the file

    @property
    def old(self) -> list[str]:
        return [text for tag, text in self.lines if tag != "+"]

    @property
    def new(self) -> list[str]:
        return [text for tag, text in self.lines if tag != "-"]


@dataclass
class FilePatch:
    old_path: str | None  # None: a new file
    new_path: str | None  # None: a deleted file
    hunks: list[Hunk] = field(default_factory=list)
    new_mode: int | None = None
    copy: bool = False
    binary: bool = False
    symlink: bool = False

    @property
    def shown(self) -> str:
        if self.old_path and self.new_path and self.old_path != self.new_path:
            return f"{self.old_path} -> {self.new_path}"
        return self.new_path or self.old_path or "?"


# --- Reading unified diffs -------------------------------------------------------------------


def parse_patch(text: str) -> list[FilePatch]:
    """The file patches of `text`, in either format; PatchError when it holds none."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if any(line.strip() == "*** Begin Patch" for line in lines):
        files = _parse_begin_patch(lines)
    else:
        files = _parse_unified(lines)
    if not files:
        raise PatchError(
            "no file changes found: give a unified diff (`--- a/path`, "
            "`+++ b/path`, `@@ -l,n +l,n @@` hunks) or a `*** Begin Patch` patch"
        )
    return files


def _parse_unified(lines: list[str]) -> list[FilePatch]:
    files: list[FilePatch] = []
    current: FilePatch | None = None
    fresh = False  # `current` came from a `diff --git` line and has not had its ---/+++ yet
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("diff --git "):
            old, new = _git_header_paths(line[len("diff --git ") :])
            current, fresh = FilePatch(old, new), True
            files.append(current)
            i = _git_extended_header(lines, i + 1, current)
            continue
        if line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old, new = _strip_prefixes(_diff_path(line[4:]), _diff_path(lines[i + 1][4:]))
            if current is not None and fresh:  # they name the paths best (spaces, quotes)
                current.old_path, current.new_path = old, new
            else:
                current = FilePatch(old, new)
                files.append(current)
            fresh = False
            i += 2
            continue
        if line.startswith("@@"):
            if current is None:
                raise PatchError(
                    f"line {i + 1}: a hunk ({line!r}) before any file header; "
                    "start each file with `--- a/path` and `+++ b/path`"
                )
            hunk, i = _read_hunk(lines, i)
            current.hunks.append(hunk)
            fresh = False
            continue
        i += 1  # text around the diff: a commit message, `index` lines, ``` fences
    return files


def _git_extended_header(lines: list[str], i: int, patch: FilePatch) -> int:
    """Read the lines after `diff --git` (modes, renames, copies, binary markers)."""
    while i < len(lines):
        line = lines[i]
        if line.startswith(("diff --git ", "--- ", "@@")):
            break
        key = line.split(" ", 1)[0]
        if line.startswith("new file mode "):
            patch.old_path = None
            patch.new_mode = _mode(line, patch)
        elif line.startswith("deleted file mode "):
            patch.new_path = None
            _mode(line, patch)
        elif line.startswith("new mode "):
            patch.new_mode = _mode(line, patch)
        elif line.startswith(("rename from ", "copy from ")):
            patch.old_path = _unquote(line.split(" ", 2)[2])
            patch.copy = key == "copy"
        elif line.startswith(("rename to ", "copy to ")):
            patch.new_path = _unquote(line.split(" ", 2)[2])
        elif line.startswith(("GIT binary patch", "Binary files ")):
            patch.binary = True
        elif line.startswith("old mode "):
            _mode(line, patch)
        elif not line.startswith(("index ", "similarity index ", "dissimilarity index ")):
            break
        i += 1
    return i


def _mode(line: str, patch: FilePatch) -> int:
    mode = int(line.rsplit(" ", 1)[1], 8)
    if mode & 0o170000 == 0o120000:
        patch.symlink = True
    return mode & 0o777


def _read_hunk(lines: list[str], i: int) -> tuple[Hunk, int]:
    """The hunk whose `@@` line is lines[i], and the index after it. Within the stated line
    counts every line belongs to the hunk (a removed "-- x" is not a file header); lines that
    still look like hunk lines after them (a model miscounted) are taken too, and a line that
    cannot be a hunk line before them (a header: the counts were too large) ends the hunk."""
    header = lines[i]
    match = HUNK_HEADER.match(header)
    hunk = Hunk([], header)
    old_left = new_left = 0
    if match:
        hunk.old_start = int(match.group(1))
        hunk.old_count = int(match.group(2) or 1)
        old_left, new_left = hunk.old_count, int(match.group(4) or 1)
    else:  # `@@` alone, or malformed numbers: placed by its content
        anchor = header.strip("@ ")
        hunk.anchors = [anchor] if anchor else []
    i += 1
    while i < len(lines):
        line = lines[i]
        first = line[:1]
        if old_left > 0 or new_left > 0:
            if first not in (" ", "+", "-", "\\", ""):
                break
        elif first != "\\" and (
            _ends_hunk(lines, i)
            or line == "-- "
            or (first not in (" ", "+", "-") and line.strip())
            or (not line.strip() and not _more_hunk_lines(lines, i))
        ):
            break  # the next file, a signature, prose, trailing blank lines
        i += 1
        if first == "\\":  # "\\ No newline at end of file": about the line before
            if hunk.lines:
                tag, text = hunk.lines[-1]
                hunk.lines[-1] = (tag, text.removesuffix("\n"))
            continue
        tag = first if first in ("+", "-") else " "  # a blank line: context that lost its space
        hunk.lines.append((tag, line[1:] + "\n"))
        old_left -= tag != "+"
        new_left -= tag != "-"
    return hunk, i


def _ends_hunk(lines: list[str], i: int) -> bool:
    line = lines[i]
    return (
        line.startswith(("@@", "diff --git "))
        or line.startswith("*** ")
        or (line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "))
    )


def _more_hunk_lines(lines: list[str], i: int) -> bool:
    """Whether a hunk line follows the blank lines from i on (before anything else)."""
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i < len(lines) and lines[i][:1] in (" ", "+", "-") and not _ends_hunk(lines, i)


def _git_header_paths(rest: str) -> tuple[str | None, str | None]:
    """The two paths of `diff --git a/x b/y` (the `---`/`+++` and rename lines, when present,
    say better: paths with spaces are not quoted here)."""
    if rest.startswith('"'):
        old, _, tail = _split_quoted(rest)
        return _strip_prefixes(old, _unquote(tail.strip()))
    half = len(rest) // 2  # `a/P b/P`: both halves hold the same P
    if rest[half : half + 1] == " " and rest[2:half] == rest[half + 3 :]:
        return _strip_prefixes(rest[:half], rest[half + 1 :])
    old, _, new = rest.partition(" ")
    return _strip_prefixes(old, _unquote(new))


def _split_quoted(text: str) -> tuple[str, str, str]:
    end = 1
    while end < len(text) and text[end] != '"':
        end += 2 if text[end] == "\\" else 1
    return _unquote(text[: end + 1]), '"', text[end + 1 :]


ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def _unquote(path: str) -> str:
    """A path as git quotes it: C escapes, octal ones for the bytes of UTF-8 characters
    ("a/caf\\303\\251") -> the path."""
    if not (len(path) >= 2 and path[0] == path[-1] == '"'):
        return path
    out, body, k = bytearray(), path[1:-1], 0
    while k < len(body):
        char = body[k]
        if char == "\\" and body[k + 1 : k + 4].isdigit() and len(body[k + 1 : k + 4]) == 3:
            out.append(int(body[k + 1 : k + 4], 8) & 0xFF)
            k += 4
        elif char == "\\" and body[k + 1 : k + 2] in ESCAPES:
            out.append(ESCAPES[body[k + 1]])
            k += 2
        else:
            out += char.encode("utf-8", "surrogateescape")
            k += 1
    return decode(bytes(out))


def _diff_path(text: str) -> str | None:
    """A `---`/`+++` line's path: without the date `diff -u` puts after a tab; None for
    /dev/null."""
    path = text.split("\t", 1)[0] if not text.startswith('"') else _split_quoted(text)[0]
    path = path.strip() if not text.startswith('"') else path
    return None if path == "/dev/null" else path


def _strip_prefixes(old: str | None, new: str | None) -> tuple[str | None, str | None]:
    """Drop git's a/ and b/ prefixes: when each side has its own (or is /dev/null)."""
    if (
        (old is None or old.startswith("a/"))
        and (new is None or new.startswith("b/"))
        and (old, new) != (None, None)
    ):
        return (old[2:] if old else None), (new[2:] if new else None)
    return old, new


# --- Reading *** Begin Patch -----------------------------------------------------------------


def _parse_begin_patch(lines: list[str]) -> list[FilePatch]:
    begin = next(i for i, line in enumerate(lines) if line.strip() == "*** Begin Patch")
    files: list[FilePatch] = []
    current: FilePatch | None = None
    hunk: Hunk | None = None
    for number, line in enumerate(lines[begin + 1 :], begin + 2):
        head = line.strip()
        if head == "*** End Patch":
            break
        if head.startswith(("*** Add File:", "*** Delete File:", "*** Update File:")):
            verb, _, path = head[4:].partition(":")
            path = path.strip()
            current = FilePatch(
                None if verb == "Add File" else path, None if verb == "Delete File" else path
            )
            files.append(current)
            hunk = Hunk([]) if verb == "Add File" else None
            if hunk is not None:
                current.hunks.append(hunk)
            continue
        if current is None:
            if head:
                raise PatchError(
                    f"line {number}: {line!r} comes before any `*** Update File:`, "
                    "`*** Add File:` or `*** Delete File:` line"
                )
            continue
        if head.startswith("*** Move to:"):
            current.new_path = head.partition(":")[2].strip()
        elif head == "*** End of File":
            if hunk is not None:
                hunk.at_eof = True
        elif line.startswith("@@") and current.old_path is not None:
            anchor = line[2:].strip()
            if hunk is None or hunk.lines:
                hunk = Hunk([], header=line)
                current.hunks.append(hunk)
            if anchor:
                hunk.anchors.append(anchor)
        elif current.old_path is None:  # an added file: every line is a `+` line
            if not line.startswith("+"):
                raise PatchError(
                    f"line {number}: in an added file ({current.new_path}) every "
                    f"line starts with '+'; got {line!r}"
                )
            assert hunk is not None
            hunk.lines.append(("+", line[1:] + "\n"))
        elif current.new_path is None:
            if head:
                raise PatchError(f"line {number}: `*** Delete File:` takes no lines; got {line!r}")
        else:
            if hunk is None:  # the first chunk may come without its `@@`
                hunk = Hunk([])
                current.hunks.append(hunk)
            tag = line[:1] if line[:1] in (" ", "+", "-") else " "
            if line[:1] not in (" ", "+", "-", ""):
                raise PatchError(
                    f"line {number}: a line of {current.old_path}'s changes "
                    f"starts with ' ', '-' or '+'; got {line!r}"
                )
            hunk.lines.append((tag, line[1:] + "\n"))
    return files
