"""The SWE kit's editing tools: view, create_file, str_replace, insert and undo_edit.

Every read and write goes through the `workspace` module's `Workspace` (paths checked, files
opened without following symlinks) and is recorded in its `EditHistory`, so `undo_edit` takes
edits back one at a time, newest first. Every edit passes the `syntax_gate` first.
"""

from __future__ import annotations

import difflib
import os
import stat
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.output import LIMIT
from opensage.kits.swe.syntax_gate import gate
from opensage.kits.swe.text import (
    LINE_MAX_CHARS,
    Text,
    closest_lines,
    decode,
    is_binary,
    numbered,
    printable,
    split_lines,
)
from opensage.kits.swe.tree import Tree
from opensage.kits.swe.workspace import Change, EditHistory, Workspace

VIEW_MAX_LINES = 500
VIEW_MAX_CHARS = LIMIT - 1_000  # so that the answer ends with how to see the next lines
SHOWN_AROUND = 4  # lines of context shown around an edited region
SHOWN_MAX_LINES = 60


class Editor:
    """The file tools of the SWE kit over one work dir; each method is a tool."""

    def __init__(self, workspace: Workspace, history: EditHistory | None = None):
        self.workspace = workspace
        self.history = history if history is not None else EditHistory()

    def view(self, path: str, view_range: list[int] | None = None) -> str:
        """The `view` tool (described in `opensage.kits.swe`): a file's lines, numbered, or
        a folder's tree."""
        target = self.workspace.locate(path)
        with self.workspace.opened(target, os.O_RDONLY | os.O_NONBLOCK) as fd:
            kind = None if fd is None else stat.S_IFMT(os.fstat(fd).st_mode)
        if kind is None:
            raise ToolError(self._missing(path, target))
        if kind == stat.S_IFDIR:
            if view_range is not None:
                raise ToolError(f"{path!r} is a folder: view_range applies to files only")
            return Tree(self.workspace).render(target)
        data = self.workspace.read(target)
        rel = self.workspace.rel(target)
        if data is None:
            raise ToolError(self._missing(path, target))
        if is_binary(data):
            raise ToolError(
                f"{rel} is a binary file ({len(data)} bytes); view shows text. "
                "Inspect it with a command (file, xxd | head)"
            )
        return _view_lines(rel, split_lines(decode(data)), view_range)

    def create_file(self, path: str, file_text: str) -> str:
        """The `create_file` tool: a new file, or a text file replaced whole; gated and
        undoable like every edit."""
        target = self.workspace.locate(path)
        old = self.workspace.read(target)
        if old is not None and is_binary(old):
            raise ToolError(
                f"{self.workspace.rel(target)} is a binary file; create_file only "
                "replaces text files"
            )
        text = Text.of(old) if old is not None else Text(file_text, crlf=False)
        new = text.adapt(file_text)
        rel = self.workspace.rel(target)
        notes = gate(rel, text.text if old is not None else None, new)
        self._save(target, old, text.bytes_of(new))
        what = "Replaced" if old is not None else "Created"
        lines = len(split_lines(new))
        return _with_notes(
            f"{what} {rel} ({lines} line{'s' * (lines != 1)}). undo_edit takes it back.", notes
        )

    def str_replace(self, path: str, old_str: str, new_str: str) -> str:
        """The `str_replace` tool: old_str, found exactly once, replaced; where it is not
        found once, the error shows where it occurs or the closest lines."""
        target, data, text = self._text_file(path)
        rel = self.workspace.rel(target)
        old, new = text.adapt(old_str), text.adapt(new_str)
        if not old:
            raise ToolError(
                "old_str is empty: give the exact text to replace (use insert to "
                "add lines without replacing any)"
            )
        starts = _occurrences(text.text, old)
        if not starts:
            raise ToolError(_not_found(rel, text.text, old))
        if len(starts) > 1:
            raise ToolError(_found_several(rel, text.text, old, starts))
        start = starts[0]
        edited = text.text[:start] + new + text.text[start + len(old) :]
        notes = gate(rel, text.text, edited)
        self._save(target, data, text.bytes_of(edited))
        first = text.text.count("\n", 0, start) + 1
        return _with_notes(_show_edit(rel, edited, first, first + new.count("\n")), notes)

    def insert(self, path: str, insert_line: int, new_str: str) -> str:
        """The `insert` tool: lines put after line `insert_line` (0: the top)."""
        target, data, text = self._text_file(path)
        rel = self.workspace.rel(target)
        lines = split_lines(text.text)
        if not 0 <= insert_line <= len(lines):
            raise ToolError(
                f"insert_line {insert_line} is outside {rel}, which has "
                f"{len(lines)} lines: give 0 (the top) to {len(lines)} (the end)"
            )
        block = text.adapt(new_str)
        if not block.endswith("\n"):
            block += "\n"
        if insert_line == 0:
            at = 0
        else:
            at = _line_end(text.text, insert_line)
            if at == len(text.text) and not text.text.endswith("\n"):
                block = "\n" + block.removesuffix("\n")  # the last line had no newline
        edited = text.text[:at] + block + text.text[at:]
        notes = gate(rel, text.text, edited)
        self._save(target, data, text.bytes_of(edited))
        added = len(split_lines(text.adapt(new_str))) or 1
        return _with_notes(_show_edit(rel, edited, insert_line + 1, insert_line + added), notes)

    def replace_lines(self, path: str, first: int, last: int, block: str) -> str:
        """Lines first..last (1-based) of a file replaced by `block` (for `rewrite_function`),
        gated and undoable like every edit; the edited lines shown as str_replace shows them."""
        target, data, text = self._text_file(path)
        rel = self.workspace.rel(target)
        start = 0 if first == 1 else _line_end(text.text, first - 1)
        end = _line_end(text.text, last)
        new = text.adapt(block)
        if not new.endswith("\n") and end < len(text.text):
            new += "\n"
        edited = text.text[:start] + new + text.text[end:]
        notes = gate(rel, text.text, edited)
        self._save(target, data, text.bytes_of(edited))
        return _with_notes(_show_edit(rel, edited, first, first + new.count("\n") - 1), notes)

    def undo_edit(self, path: str) -> str:
        """The `undo_edit` tool: the file's last edit (of any tool) taken back."""
        target = self.workspace.locate(path)
        rel = self.workspace.rel(target)
        change = self.history.pop(target)
        if change is None:
            raise ToolError(
                f"no edit of {rel} is left to undo: undo_edit takes back what "
                "create_file, str_replace, insert and apply_patch did in this run"
            )
        current = self.workspace.read(target)
        if change.before is None:
            if current is not None:
                self.workspace.remove(target)
            done = f"Undid the creation of {rel}: the file is removed."
        else:
            self.workspace.write(target, change.before, change.mode if current is None else None)
            done = f"Undid the last edit of {rel}.\n" + _undo_diff(rel, current, change.before)
        if current != change.after:
            done += (
                f"\nNote: {rel} had changed since that edit (by a command?); those "
                "changes are gone too."
            )
        left = self.history.count(target)
        return done + (
            f"\n{left} earlier edit{'s' * (left != 1)} of {rel} can be undone." if left else ""
        )

    # -- helpers --

    def _text_file(self, path: str) -> tuple[Path, bytes, Text]:
        target = self.workspace.locate(path)
        data = self.workspace.read(target)
        if data is None:
            raise ToolError(self._missing(path, target) + " (create_file makes a new file)")
        if is_binary(data):
            raise ToolError(
                f"{self.workspace.rel(target)} is a binary file: these tools edit text files"
            )
        return target, data, Text.of(data)

    def _save(self, target: Path, before: bytes | None, after: bytes) -> None:
        self.workspace.write(target, after)
        self.history.record(target, Change(before, after))

    def _missing(self, path: str, target: Path) -> str:
        """`path` does not exist: say so, with the closest names in the nearest folder."""
        folder = target.parent
        while folder != self.workspace.root and not folder.is_dir():
            folder = folder.parent
        with self.workspace.opened(folder, os.O_RDONLY | os.O_DIRECTORY) as fd:
            names = os.listdir(fd) if fd is not None else []
        wanted = target.relative_to(folder).parts[0]
        close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.6)
        prefix = "" if folder == self.workspace.root else self.workspace.rel(folder) + "/"
        hint = (
            f" Did you mean {', '.join(prefix + name for name in close)}?"
            if close
            else f" View {prefix or '.'} to see what is there."
        )
        return f"{path!r} does not exist.{hint}"


def _view_lines(rel: str, lines: list[str], view_range: list[int] | None) -> str:
    total = len(lines)
    if view_range is None:
        start, end = 1, total
    elif len(view_range) != 2:
        raise ToolError(f"view_range must be two numbers, [start, end]; got {view_range}")
    else:
        start, end = view_range
        end = total if end == -1 else end
        if not 1 <= start <= max(total, 1) or end < start:
            raise ToolError(
                f"view_range {view_range} does not fit {rel}, which has {total} "
                f"lines: give [start, end] with 1 <= start <= end <= {total} "
                "(or end -1 for the last line)"
            )
        end = min(end, total)
    if total == 0:
        return f"{rel} is empty."
    shown, size = start - 1, 0
    while shown < end and shown - start + 1 < VIEW_MAX_LINES:
        size += min(len(lines[shown]), LINE_MAX_CHARS) + 8
        if size > VIEW_MAX_CHARS and shown >= start:
            break
        shown += 1
    out = numbered(lines[start - 1 : shown], start)
    if shown < end:
        step = shown - start + 1
        out += (
            f"\n[{rel}: lines {start}-{shown} of {total} shown; view_range="
            f"[{shown + 1}, {min(shown + step, end)}] shows the next ones]"
        )
    return out


def _line_end(text: str, line: int) -> int:
    """The offset just after the newline that ends `line` (1-based), or the text's end."""
    at = -1
    for _ in range(line):
        at = text.find("\n", at + 1)
        if at == -1:
            return len(text)
    return at + 1


def _occurrences(text: str, old: str) -> list[int]:
    starts, at = [], text.find(old)
    while at != -1:
        starts.append(at)
        at = text.find(old, at + 1)
    return starts


def _found_several(rel: str, text: str, old: str, starts: list[int]) -> str:
    lines = split_lines(text)
    places = []
    for start in starts[:10]:
        line = text.count("\n", 0, start) + 1
        first = max(1, line - 1)
        places.append(numbered(lines[first - 1 : line + 1], first))
    more = f"\n(and {len(starts) - 10} more)" if len(starts) > 10 else ""
    numbers = ", ".join(str(text.count("\n", 0, s) + 1) for s in starts[:10])
    return (
        f"old_str occurs {len(starts)} times in {rel} (at lines {numbers}); it must occur "
        "exactly once. Add lines before or after it to old_str so that it matches one "
        "place only:\n" + "\n---\n".join(places) + more
    )


def _not_found(rel: str, text: str, old: str) -> str:
    lines, wanted = split_lines(text), split_lines(old) or [old]
    message = f"old_str does not occur in {rel}."
    stripped = [line.strip() for line in lines]
    key = [line.strip() for line in wanted]
    for at in range(len(lines) - len(key) + 1):
        if stripped[at : at + len(key)] == key:
            return (
                f"{message} It matches lines {at + 1}-{at + len(key)} if whitespace is "
                "ignored: copy their indentation exactly (spaces or tabs):\n"
                + numbered(lines[at : at + len(key)], at + 1)
            )
    found = closest_lines(lines, wanted)
    if found is None:
        return f"{message} No lines of it are alike; view the file to see its text."
    at, ratio = found
    span = lines[at : at + len(wanted)][:SHOWN_MAX_LINES]
    return (
        f"{message} The closest lines are {at + 1}-{at + len(span)} "
        f"({ratio:.0%} alike); view them and copy the text exactly:\n" + numbered(span, at + 1)
    )


def _show_edit(rel: str, text: str, first: int, last: int) -> str:
    """The edited lines first..last with a few around them, numbered, for the model to check."""
    lines = split_lines(text)
    last = max(first, min(last, len(lines)))
    start, end = max(1, first - SHOWN_AROUND), min(len(lines), last + SHOWN_AROUND)
    if end - start + 1 > SHOWN_MAX_LINES:
        half = SHOWN_MAX_LINES // 2
        body = (
            numbered(lines[start - 1 : start - 1 + half], start)
            + f"\n[... {end - start + 1 - 2 * half} lines ...]\n"
            + numbered(lines[end - half : end], end - half + 1)
        )
    else:
        body = numbered(lines[start - 1 : end], start)
    return (
        f"Edited {rel}; lines {start}-{end} now read:\n{body}\n"
        "Check the change (indentation included); undo_edit takes it back."
    )


def _undo_diff(rel: str, current: bytes | None, restored: bytes) -> str:
    old = split_lines(printable(decode(current))) if current is not None else []
    new = split_lines(printable(decode(restored)))
    diff = list(
        difflib.unified_diff(old, new, f"{rel} (edited)", f"{rel} (restored)", n=2, lineterm="")
    )
    if len(diff) > SHOWN_MAX_LINES:
        diff = [*diff[:SHOWN_MAX_LINES], f"[... {len(diff) - SHOWN_MAX_LINES} more lines]"]
    return "\n".join(diff) if diff else "(the content is the same)"


def _with_notes(text: str, notes: list[str]) -> str:
    return text + "".join(f"\nWarning: {note}" for note in notes)
