"""`Workspace`: the work dir as the SWE kit's editing tools (edits and patches) reach it, and
the `EditHistory` of what they changed.

A path is resolved against the work dir (symlinks included) and refused if it leads outside it
or into OpenSage's home (the files kit's `resolve_inside`, which every tool taking a path uses),
then opened folder by folder without following symlinks (the files kit's `open_beneath`), so a
link planted in the repository cannot make an edit read or write anything else, even if it is
swapped in after the check. Every edit records the file's previous bytes in an `EditHistory`, so
`undo_edit` takes edits back one at a time, newest first.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.files import guarded_home, in_home, open_beneath, open_regular, resolve_inside

MAX_FILE_BYTES = 10 << 20  # larger files are logs or data: search them or use a command


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
