"""`apply_patch`: apply a unified diff, or a `*** Begin Patch` patch, all or nothing.

Two formats are read into one model (`FilePatch`, `Hunk`):
- the unified diff `git diff` writes (several files; new, deleted, renamed and copied files; mode
  changes), and the plainer `diff -u` output. Hunk line counts are trusted when they fit and
  repaired when a model miscounted; a blank line in a hunk is an empty context line whose
  leading space was lost.
- the `*** Begin Patch` / `*** Update File:` / `*** Add File:` / `*** Delete File:` /
  `*** Move to:` / `*** End Patch` format some hosted models are trained to write, whose chunks
  are placed by their context lines (and `@@ text` anchors) rather than by line numbers.

A hunk is placed where its context and removed lines occur exactly, as near to its stated line
as possible (fuzz on line numbers, never on content), after the previous hunk; failing that,
ignoring trailing whitespace. Every hunk of every file is checked, and the syntax gate run, before
anything is written: a patch applies whole or not at all, and the report names each hunk that
does not apply and why. This is parsed and applied here in Python, over the work dir through the
workspace's safe opens: no `patch` or `git apply` runs on the host. Each file's change is
recorded in the edit history, so `undo_edit(path)` takes it back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.swe.syntax_gate import syntax_check
from opensage.kits.swe.text import (
    closest_lines,
    decode,
    encode,
    is_binary,
    numbered,
    printable,
    split_lines,
)
from opensage.kits.swe.workspace import Change, EditHistory, Workspace

HUNK_HEADER = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)")
SHOWN_MAX_LINES = 80  # the applied hunks' lines shown in the report, over all files


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


# --- Applying --------------------------------------------------------------------------------


class HunkFailed(Exception):
    pass


@dataclass
class Placed:
    """A hunk placed in a file: it replaces lines[at:at + len(old)] by `new`."""

    at: int
    old_count: int
    new: list[str]
    note: str = ""


def place_hunks(lines: list[str], hunks: list[Hunk]) -> tuple[list[str], list[Placed]]:
    """`lines` (each with its line ending) with the hunks applied; HunkFailed naming the hunk
    and saying why when one does not fit."""
    placed: list[Placed] = []
    floor, shift = 0, 0  # hunks come in file order; the last one's offset carries over
    for number, hunk in enumerate(hunks, 1):
        try:
            spot = _place(lines, hunk, floor, shift)
        except HunkFailed as exc:
            label = f"hunk {number} of {len(hunks)}" + (
                f" ({hunk.header.strip()})" if hunk.header.strip() else ""
            )
            raise HunkFailed(f"{label} does not apply: {exc}") from None
        placed.append(spot)
        floor = spot.at + spot.old_count
        if hunk.old_start is not None:
            shift = spot.at - _stated_index(hunk)
    out: list[str] = []
    done = 0
    for spot in placed:
        out += lines[done : spot.at] + spot.new
        done = spot.at + spot.old_count
    out += lines[done:]
    for k in range(len(out) - 1):  # a line that lost its newline is no longer the last
        if not out[k].endswith("\n"):
            out[k] += "\n"
    return out, placed


def _stated_index(hunk: Hunk) -> int:
    assert hunk.old_start is not None
    # `-l,0` means "after line l"; otherwise the hunk starts at line l.
    return hunk.old_start if hunk.old_count == 0 else hunk.old_start - 1


def _place(lines: list[str], hunk: Hunk, floor: int, shift: int) -> Placed:
    start = floor
    for anchor in hunk.anchors:
        found = _find_anchor(lines, anchor, start)
        if found is None:
            raise HunkFailed(f"its `@@ {anchor}` line is not in the file after line {start}")
        start = found + 1
    old = hunk.old
    hint = max(start, _stated_index(hunk) + shift) if hunk.old_start is not None else start
    if not old:  # only added lines: at the stated line, after the anchors, or at the end
        at = min(hint if hunk.old_start is not None or hunk.anchors else len(lines), len(lines))
        return Placed(at, 0, _new_lines(hunk, lines, at))
    for strict in (True, False):
        found = _search(lines, old, start, hint, hunk.at_eof, strict)
        if found is None:
            continue
        notes = [] if strict else ["ignoring trailing whitespace"]
        if hunk.old_start is not None and found != _stated_index(hunk):
            notes.append(f"at line {found + 1}, not {_stated_index(hunk) + 1}")
        return Placed(found, len(old), _new_lines(hunk, lines, found), ", ".join(notes))
    raise HunkFailed(_why_not(lines, old, start))


def _find_anchor(lines: list[str], anchor: str, start: int) -> int | None:
    for strict in (True, False):
        for k in range(start, len(lines)):
            line = lines[k].rstrip("\r\n")
            if line == anchor if strict else line.strip() == anchor.strip():
                return k
    return None


def _search(
    lines: list[str], old: list[str], start: int, hint: int, at_eof: bool, strict: bool
) -> int | None:
    """Where `old` occurs at or after `start`, nearest to `hint` (the earlier of two equally
    near)."""
    last = len(lines) - len(old)
    if last < start:
        return None
    candidates = (
        [last] if at_eof else sorted(range(start, last + 1), key=lambda k: (abs(k - hint), k))
    )
    for at in candidates:
        if all(_same(lines[at + j], want, strict) for j, want in enumerate(old)):
            return at
    return None


def _same(have: str, want: str, strict: bool) -> bool:
    if strict:
        return have == want
    return have.rstrip() == want.rstrip()


def _new_lines(hunk: Hunk, lines: list[str], at: int) -> list[str]:
    """The hunk's new lines: context lines as the file has them, added lines as written (with
    the file's CRLF endings when it uses them)."""
    crlf = bool(lines) and sum(line.endswith("\r\n") for line in lines) * 2 > len(lines)
    out, k = [], at
    for tag, text in hunk.lines:
        if tag == " ":
            out.append(lines[k] if k < len(lines) else text)
            k += 1
        elif tag == "-":
            k += 1
        else:
            out.append(
                text[:-1] + "\r\n"
                if crlf and text.endswith("\n") and not text.endswith("\r\n")
                else text
            )
    return out


def _why_not(lines: list[str], old: list[str], start: int) -> str:
    count = len(old)
    wanted = [line.rstrip("\r\n") for line in old]
    plain = [line.rstrip("\r\n") for line in lines]
    if start > 0 and _search(lines, old, 0, 0, False, False) is not None:
        return (
            f"its {count} context and removed lines occur only before line {start + 1}, "
            "where the previous hunk ends: hunks must come in file order and not overlap"
        )
    found = closest_lines(plain[start:], wanted)
    if found is None:
        return (
            f"its {count} context and removed lines are not in the file, nor any alike: "
            "view the file and rebuild the hunk from its current text"
        )
    at, ratio = found
    at += start
    for j, want in enumerate(wanted):
        have = plain[at + j] if at + j < len(plain) else None
        if have is None or have != want:
            file_says = repr(printable(have)) if have is not None else "the end of the file"
            return (
                f"its context and removed lines are not in the file; the closest are at "
                f"lines {at + 1}-{at + count} ({ratio:.0%} alike), where line {at + j + 1} "
                f"is {file_says} but the hunk expects {printable(want)!r}"
            )
    return "its lines are not in the file"


# --- The tool --------------------------------------------------------------------------------


@dataclass
class Staged:
    """One file's change, computed before anything is written."""

    target: Path
    before: bytes | None  # on disk now (None: missing)
    before_mode: int | None  # its permission bits, to restore it as it was
    after: bytes | None  # None: deleted
    mode: int | None = None  # bits to set (a mode change, a renamed file's), None to keep
    origin: bytes | None = None  # what the edit started from, for the syntax gate


class Patcher:
    """`apply_patch` over one work dir; its changes go to the same edit history as the edit
    tools', so `undo_edit(path)` takes a patched file back."""

    def __init__(self, workspace: Workspace, history: EditHistory):
        self.workspace = workspace
        self.history = history

    def apply_patch(self, patch: str) -> str:
        """The `apply_patch` tool (described in `opensage.kits.swe`): every hunk of every
        file placed and gated before anything is written, then all written, each file's
        change recorded for undo_edit; a report per file."""
        try:
            files = parse_patch(patch)
        except PatchError as exc:
            raise ToolError(f"Not applied (the patch cannot be read): {exc}") from None
        staged: dict[Path, Staged] = {}
        reports, errors, shown = [], [], []
        for file in files:
            try:
                report, regions = self._stage(file, staged)
            except (HunkFailed, ToolError) as exc:
                errors.append(f"{file.shown}: {exc}")
                continue
            reports.append(report)
            shown += regions
        if errors:
            ok = f"\nThese parts would apply: {'; '.join(reports)}." if reports else ""
            raise ToolError(
                "Not applied: nothing was changed, because\n"
                + "\n".join(f"- {e}" for e in errors)
                + ok
                + "\nFix those parts (view the files for their current text) and "
                "send the whole patch again."
            )
        notes = self._gate(staged)
        self._write(staged)
        return self._report(reports, shown, notes)

    # -- staging: every change computed in memory first --

    def _stage(self, file: FilePatch, staged: dict[Path, Staged]) -> tuple[str, list[str]]:
        if file.binary:
            raise ToolError(
                "a binary patch; apply_patch changes text files only (rebuild the "
                "file with a command instead)"
            )
        if file.symlink:
            raise ToolError("a symlink; apply_patch changes regular files only")
        source = self._locate(file.old_path) if file.old_path else None
        target = self._locate(file.new_path) if file.new_path else None
        if source is None:  # a new file
            assert target is not None
            if self._current(target, staged) is not None:
                raise ToolError(
                    "it already exists, and the patch creates it: give a diff "
                    "against its current text (--- a/path) instead"
                )
            text = "".join(t for hunk in file.hunks for tag, t in hunk.lines if tag == "+")
            self._put(staged, target, encode(text), file.new_mode, None)
            count = len(split_lines(text))
            return f"{file.new_path}: created ({count} line{'s' * (count != 1)})", []
        data = self._current(source, staged)
        if data is None:
            raise ToolError(
                "it does not exist (the patch changes it); view its folder to find the right path"
            )
        if is_binary(data):
            raise ToolError("a binary file; apply_patch changes text files only")
        new_lines, placed = place_hunks(_lines(decode(data)), file.hunks)
        if target is None:  # deleted: its hunks must take every line away
            if file.hunks and new_lines:
                raise ToolError(
                    f"the patch deletes it, but its removed lines leave "
                    f"{len(new_lines)} of its lines: view it and give them all"
                )
            self._put(staged, source, None, None, None)
            return f"{file.old_path}: deleted", []
        mode: int | None = file.new_mode
        if target != source:
            if self._current(target, staged) is not None:
                raise ToolError(
                    f"{file.new_path} already exists: the patch "
                    f"{'copies' if file.copy else 'renames'} {file.old_path} to it"
                )
            mode = mode if mode is not None else self.workspace.mode(source)
            if not file.copy:
                self._put(staged, source, None, None, None)
        self._put(staged, target, encode("".join(new_lines)), mode, data)
        verb = (
            "changed"
            if target == source
            else f"{'copied' if file.copy else 'renamed'} to {file.new_path}"
        )
        notes = [f"hunk {k} {spot.note}" for k, spot in enumerate(placed, 1) if spot.note]
        report = (
            f"{file.old_path}: {verb}"
            + (f", {len(placed)} hunk{'s' * (len(placed) != 1)}" if placed else "")
            + (f" ({'; '.join(notes)})" if notes else "")
        )
        return report, self._regions(self.workspace.rel(target), new_lines, placed)

    def _locate(self, path: str) -> Path:
        target = self.workspace.locate(path)
        if target == self.workspace.root:
            raise ToolError(f"{path!r} is the work directory itself, not a file")
        return target

    def _current(self, target: Path, staged: dict[Path, Staged]) -> bytes | None:
        if target in staged:
            return staged[target].after
        return self.workspace.read(target)

    def _put(
        self,
        staged: dict[Path, Staged],
        target: Path,
        after: bytes | None,
        mode: int | None,
        origin: bytes | None,
    ) -> None:
        entry = staged.get(target)
        if entry is None:
            before = self.workspace.read(target)
            mode_now = self.workspace.mode(target) if before is not None else None
            staged[target] = Staged(target, before, mode_now, after, mode, origin)
        else:  # a second change of the same file in one patch
            entry.after, entry.mode = after, mode if mode is not None else entry.mode
            entry.origin = entry.origin if entry.origin is not None else origin

    def _regions(self, rel: str, lines: list[str], placed: list[Placed]) -> list[str]:
        regions, delta = [], 0
        texts = [line.rstrip("\r\n") for line in lines]
        for spot in placed:
            first = spot.at + delta
            delta += len(spot.new) - spot.old_count
            if spot.new:
                last = first + len(spot.new)
                regions.append(
                    f"{rel}, lines {first + 1}-{last}:\n" + numbered(texts[first:last], first + 1)
                )
        return regions

    def _gate(self, staged: dict[Path, Staged]) -> list[str]:
        notes: list[str] = []
        errors: list[str] = []
        for entry in staged.values():
            if entry.after is None:
                continue
            origin = entry.origin if entry.origin is not None else entry.before
            error, warnings = syntax_check(
                self.workspace.rel(entry.target),
                decode(origin) if origin is not None else None,
                decode(entry.after),
            )
            notes += warnings
            if error is not None:
                errors.append(error)
        if errors:
            raise ToolError(
                "Not applied: nothing was changed, because the patch would leave a "
                "syntax error:\n" + "\n".join(errors) + "\nFix the patch and send it again."
            )
        return notes

    # -- writing --

    def _write(self, staged: dict[Path, Staged]) -> None:
        done: list[Staged] = []
        try:
            for entry in staged.values():
                if entry.after == entry.before and entry.mode in (None, entry.before_mode):
                    continue
                if entry.after is None:
                    self.workspace.remove(entry.target)
                else:
                    self.workspace.write(entry.target, entry.after, entry.mode)
                done.append(entry)
        except (OSError, ToolError) as exc:
            for entry in reversed(done):  # put back what was written: all or nothing
                if entry.before is None:
                    self.workspace.remove(entry.target)
                else:
                    self.workspace.write(entry.target, entry.before, entry.before_mode)
            raise ToolError(
                f"Not applied: writing failed ({exc}); the files written before were restored"
            ) from None
        for entry in done:
            self.history.record(entry.target, Change(entry.before, entry.after, entry.before_mode))

    def _report(self, reports: list[str], shown: list[str], notes: list[str]) -> str:
        text = f"Applied the patch ({len(reports)} file{'s' * (len(reports) != 1)}):\n" + "\n".join(
            f"- {r}" for r in reports
        )
        body: list[str] = []
        size = 0
        for region in shown:
            size += region.count("\n") + 1
            if size > SHOWN_MAX_LINES:
                body.append("[... more changed lines: view the files to check them]")
                break
            body.append(region)
        if body:
            text += "\nThe changed lines now read:\n" + "\n".join(body)
        text += "\nundo_edit(path) takes back the patch's change to one file."
        return text + "".join(f"\nWarning: {note}" for note in notes)


def _lines(text: str) -> list[str]:
    """The lines of a text, each with its "\\n" (the last may have none)."""
    lines = text.split("\n")
    tail = lines.pop()
    out = [line + "\n" for line in lines]
    return [*out, tail] if tail else out
