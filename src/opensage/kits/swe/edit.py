"""The SWE kit's editing tools: view, create_file, str_replace, insert and undo_edit.

Every read and write goes through `Workspace`: a path is resolved against the work dir (symlinks
included) and refused if it leads outside it or into OpenSage's home (the files kit's
`resolve_inside`, which every tool taking a path uses), then opened folder by
folder without following symlinks (the files kit's `open_beneath`), so a link planted in the
repository cannot make an edit read or write anything else, even if it is swapped in after the
check. Every edit records the file's previous bytes in an `EditHistory`, so `undo_edit` takes
edits back one at a time, newest first.

The syntax gate: a Python file that compiled before an edit must compile after it. An edit that
breaks it is never written, and the model gets the error with the lines around it. Other
languages get a warning from a tree-sitter parse (the `code` module's `parse_errors`), and the
edit is kept: a parser's opinion on C++ or TypeScript is not sure enough to refuse an edit.
"""

from __future__ import annotations

import contextlib
import difflib
import errno
import os
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.files import guarded_home, in_home, open_beneath, open_regular, resolve_inside
from opensage.kits.output import LIMIT
from opensage.kits.swe.ignore import GIT_IGNORE_FILES, Ignores

MAX_FILE_BYTES = 10 << 20  # larger files are logs or data: search them or use a command
BINARY_PROBE = 8000  # git's rule: a NUL byte in the first 8000 bytes makes a file binary
VIEW_MAX_LINES = 500
VIEW_MAX_CHARS = LIMIT - 1_000  # so that the answer ends with how to see the next lines
LINE_MAX_CHARS = 2_000
TREE_MAX_ENTRIES = 300
TREE_MAX_CHARS = LIMIT - 1_000
TREE_MAX_CHILDREN = 30  # per folder of the second level
SHOWN_AROUND = 4  # lines of context shown around an edited region
SHOWN_MAX_LINES = 60
PYTHON_SUFFIXES = (".py", ".pyi")


# --- Safe file access -------------------------------------------------------------------------


class Workspace:
    """The work dir as the SWE kit's tools see it: paths checked, files opened without
    following symlinks, OpenSage's home (when it lies inside the work dir) out of reach."""

    def __init__(self, root: Path, home: Path | None = None):
        self.root = Path(root).resolve()
        self.home = home
        # The home keeps every run's records and the user's trusted settings (see config.py).
        self.guarded = guarded_home(self.root, home)

    def locate(self, path: str) -> Path:
        """The absolute, symlink-free path `path` names; ToolError if it leads outside."""
        return resolve_inside(self.root, path, self.home)

    def rel(self, target: Path) -> str:
        return target.relative_to(self.root).as_posix() or "."

    def hidden(self, target: Path) -> bool:
        return in_home(target, self.guarded)

    def read(self, target: Path) -> bytes | None:
        """The bytes of a regular file, None if it does not exist; ToolError for a folder, a
        FIFO, a symlink met on the way, or a file too large to edit."""
        if target == self.root:
            raise ToolError("the work directory itself is a folder, not a file")
        try:
            fd = open_regular(self.root, target, os.O_RDONLY | os.O_NONBLOCK, self.rel(target))
        except FileNotFoundError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise ToolError(f"{exc}: view it to see what it is") from None
        except PermissionError as exc:
            raise ToolError(f"{self.rel(target)!r}: {exc}") from None
        with os.fdopen(fd, "rb") as file:
            size = os.fstat(fd).st_size
            if size > MAX_FILE_BYTES:
                raise ToolError(
                    f"{self.rel(target)} is {size >> 20} MB, over the "
                    f"{MAX_FILE_BYTES >> 20} MB these tools read: look into it with "
                    "search, or a command (grep -n, sed -n '100,200p')"
                )
            return file.read()

    def mode(self, target: Path) -> int | None:
        """The permission bits of an existing file (kept when a patch deletes and undo
        restores it)."""
        with self.opened(target, os.O_RDONLY | os.O_NONBLOCK) as fd:
            return None if fd is None else stat.S_IMODE(os.fstat(fd).st_mode)

    def write(self, target: Path, data: bytes, mode: int | None = None) -> None:
        """Write a regular file whole (made with its parent folders if missing)."""
        try:
            # O_NONBLOCK: a FIFO is refused at once; truncating comes after the regular-file
            # check, so nothing but a regular file is emptied.
            fd = open_regular(
                self.root,
                target,
                os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK,
                self.rel(target),
                make_parents=True,
            )
        except (PermissionError, FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ToolError(f"cannot write {self.rel(target)}: {exc}") from None
        with os.fdopen(fd, "wb") as file:
            os.ftruncate(fd, 0)
            file.write(data)
            if mode is not None:
                os.fchmod(fd, mode)

    def remove(self, target: Path) -> None:
        """Delete a file, then the folders it leaves empty (as `git apply` does)."""
        with self.opened(target.parent, os.O_RDONLY | os.O_DIRECTORY) as parent:
            if parent is None:
                return
            os.unlink(target.name, dir_fd=parent)
        folder = target.parent
        while folder != self.root:
            with self.opened(folder.parent, os.O_RDONLY | os.O_DIRECTORY) as parent:
                try:
                    os.rmdir(folder.name, dir_fd=parent)
                except OSError:  # not empty (or gone): the folders above are not empty either
                    return
            folder = folder.parent

    @contextlib.contextmanager
    def opened(self, target: Path, flags: int) -> Iterator[int | None]:
        """A descriptor for `target` opened beneath the root (None if it does not exist)."""
        try:
            fd = (
                os.open(self.root, flags)
                if target == self.root
                else open_beneath(self.root, target, flags)
            )
        except FileNotFoundError:
            fd = None
        except (PermissionError, NotADirectoryError) as exc:
            raise ToolError(f"{self.rel(target)!r}: {exc}") from None
        try:
            yield fd
        finally:
            if fd is not None:
                os.close(fd)


# --- Text ------------------------------------------------------------------------------------


def decode(data: bytes) -> str:
    """Bytes -> text that encodes back to the same bytes, whatever the file's encoding."""
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise ToolError(
            f"the text holds a character that cannot be written in UTF-8 "
            f"({text[exc.start : exc.end]!r}); write it as an escape instead"
        ) from None


def printable(text: str) -> str:
    """Text for the model: bytes that were not UTF-8 shown as the replacement character."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def split_lines(text: str) -> list[str]:
    """The lines of a text without their "\\n" (a final newline ends the last line, it does
    not start a new one). Not str.splitlines, which also splits at form feeds and other
    characters that source files hold inside lines."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_PROBE]


def numbered(lines: list[str], first: int) -> str:
    """Lines with their numbers (first is the number of lines[0]), as `cat -n` shows them."""
    shown = []
    for number, line in enumerate(lines, first):
        line = printable(line.removesuffix("\r"))
        if len(line) > LINE_MAX_CHARS:
            line = f"{line[:LINE_MAX_CHARS]}[... {len(line) - LINE_MAX_CHARS} more characters]"
        shown.append(f"{number:>6}\t{line}")
    return "\n".join(shown)


@dataclass
class Text:
    """A text file being edited: its lines end with "\\n" whatever the file uses, and `save`
    puts the file's own line endings back."""

    text: str
    crlf: bool

    @classmethod
    def of(cls, data: bytes) -> Text:
        text = decode(data)
        crlf = "\r\n" in text and text.count("\r\n") == text.count("\n")
        return cls(text.replace("\r\n", "\n") if crlf else text, crlf)

    def adapt(self, given: str) -> str:
        """Text from the model, in this file's convention."""
        return given.replace("\r\n", "\n") if self.crlf else given

    def bytes_of(self, text: str) -> bytes:
        return encode(text.replace("\n", "\r\n") if self.crlf else text)


# --- The syntax gate -------------------------------------------------------------------------


def python_syntax_error(text: str, name: str) -> str | None:
    """Why `text` does not compile as Python, with the lines around the error; None if it
    does. Compiled, not run (compile() also finds what the parser lets through, such as a
    `return` outside a function). As bytes, so that a coding declaration is obeyed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            compile(text.encode("utf-8", "surrogateescape"), name, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return _describe_syntax_error(exc, text, name)
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes; absurd nesting
        return f"{name}: {exc or type(exc).__name__}"
    return None


def _describe_syntax_error(exc: SyntaxError, text: str, name: str) -> str:
    line = exc.lineno or 0
    message = f"{name}, line {line}: {exc.msg}"
    lines = split_lines(text)
    if not 1 <= line <= len(lines):
        return message
    first = max(1, line - 3)
    around = numbered(lines[first - 1 : line], first)
    if exc.offset and exc.offset > 0:
        around += "\n\t" + " " * (exc.offset - 1) + "^"
    after = lines[line : line + 3]
    if after:
        around += "\n" + numbered(after, line + 1)
    return f"{message}\n{around}"


def parse_warnings(rel: str, text: str) -> list[str]:
    """Syntax errors a tree-sitter parse finds in a file of another language than Python, as
    "line N: message" (the `code` module loads the grammars; none without them)."""
    from opensage.kits.swe.code import parse_errors  # imported on first use: tree-sitter

    try:
        errors = parse_errors(rel, printable(text))
    except ImportError:  # tree-sitter-language-pack is not installed: nothing to check with
        return []
    return [f"line {line}: {message}" for line, message in errors]


def syntax_check(rel: str, before: str | None, after: str) -> tuple[str | None, list[str]]:
    """The syntax gate: the error that refuses an edit (a Python file that compiled, or a new
    one, that would not compile after it), or None; and the warnings to show with it."""
    if rel.endswith(PYTHON_SUFFIXES):
        error = python_syntax_error(after, rel)
        if error is None:
            return None, []
        if before is None or python_syntax_error(before, rel) is None:
            return error, []
        return None, [
            f"{rel} did not compile before this edit either (for this Python?); "
            f"it is written. Still failing: {error}"
        ]
    problems = parse_warnings(rel, after)
    return None, (
        [f"{rel} may not parse any more (the edit is kept; check it): " + "; ".join(problems)]
        if problems
        else []
    )


def gate(rel: str, before: str | None, after: str) -> list[str]:
    """`syntax_check`, raising the refusal as a ToolError for the model."""
    error, notes = syntax_check(rel, before, after)
    if error is not None:
        raise ToolError(
            f"Not applied: this edit would leave a syntax error in {rel}, so the "
            f"file is unchanged.\n{error}\nFix the edit and call again."
        )
    return notes


# --- Undo ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """One edit of one file: what it held before (None: it did not exist) and after."""

    before: bytes | None
    after: bytes | None
    mode: int | None = None  # the permission bits before, to restore a deleted file's


class EditHistory:
    """Every edit of the run per file, so each can be undone, newest first."""

    def __init__(self) -> None:
        self._changes: dict[Path, list[Change]] = {}

    def record(self, target: Path, change: Change) -> None:
        self._changes.setdefault(target, []).append(change)

    def pop(self, target: Path) -> Change | None:
        changes = self._changes.get(target)
        return changes.pop() if changes else None

    def count(self, target: Path) -> int:
        return len(self._changes.get(target, ()))


# --- The tools -------------------------------------------------------------------------------


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


def closest_lines(
    lines: list[str], wanted: list[str], cutoff: float = 0.5
) -> tuple[int, float] | None:
    """Where the run of len(wanted) lines most like `wanted` starts (0-based), and how alike
    it is (difflib's ratio); None when no run is at least `cutoff` alike."""
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2("\n".join(wanted))  # the side difflib indexes, kept for every window
    best: tuple[int, float] | None = None
    floor = cutoff
    for at in range(max(1, len(lines) - len(wanted) + 1)):
        matcher.set_seq1("\n".join(lines[at : at + len(wanted)]))
        if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
            continue
        ratio = matcher.ratio()
        if ratio >= floor and (best is None or ratio > best[1]):
            best, floor = (at, ratio), ratio
    return best


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


# --- Folder trees ----------------------------------------------------------------------------


class Tree:
    """A folder shown two levels deep, without hidden or ignored entries."""

    def __init__(self, workspace: Workspace):
        self.workspace = workspace
        # .gitignore and .git/info/exclude, read through safe opens: no git runs on the host
        self.ignores = Ignores(workspace.root, GIT_IGNORE_FILES)

    def render(self, folder: Path) -> str:
        rel = self.workspace.rel(folder)
        prefix = "" if rel == "." else rel + "/"
        shown: list[str] = []
        with self.workspace.opened(folder, os.O_RDONLY | os.O_DIRECTORY) as fd:
            if fd is None:
                raise ToolError(f"{rel} is gone (removed by a command?)")
            entries = self._entries(fd, folder)
            for name, kind in entries:
                if len(shown) >= TREE_MAX_ENTRIES or sum(map(len, shown)) > TREE_MAX_CHARS:
                    shown.append(f"[... more entries in {rel}; view a subfolder]")
                    break
                shown.append(_entry(prefix + name, kind))
                if kind == "dir":
                    shown += self._children(fd, folder / name, prefix + name + "/")
        header = (
            f"{rel}/ two levels deep (hidden and .gitignore'd entries left out; view a "
            "subfolder to go deeper):"
        )
        return "\n".join([header, *shown]) if shown else f"{rel}/ is empty (or all ignored)."

    def _children(self, parent_fd: int, folder: Path, prefix: str) -> list[str]:
        name = folder.name
        try:
            fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent_fd)
        except OSError:
            return [f"[{prefix} cannot be listed]"]
        try:
            entries = self._entries(fd, folder)
        finally:
            os.close(fd)
        lines = [_entry(prefix + child, kind) for child, kind in entries[:TREE_MAX_CHILDREN]]
        if len(entries) > TREE_MAX_CHILDREN:
            lines.append(f"[... {len(entries) - TREE_MAX_CHILDREN} more in {prefix}]")
        return lines

    def _entries(self, fd: int, folder: Path) -> list[tuple[str, str]]:
        entries = []
        with os.scandir(fd) as it:
            for entry in it:
                if entry.name.startswith(".") or self.workspace.hidden(folder / entry.name):
                    continue
                kind = (
                    "link"
                    if entry.is_symlink()
                    else "dir"
                    if entry.is_dir(follow_symlinks=False)
                    else "file"
                )
                rel = self.workspace.rel(folder / entry.name)
                if not self.ignores.ignored(rel, kind == "dir"):
                    entries.append((entry.name, kind))
        return sorted(entries)


def _entry(rel: str, kind: str) -> str:
    return rel + {"dir": "/", "link": " (symlink)", "file": ""}[kind]
