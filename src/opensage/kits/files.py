"""The `files` kit: read, write and list files inside the run's work directory.

Paths are resolved against the work directory, symlinks included, and refused if they lead
outside it: the model can only touch the tree it was given. The file is then opened folder by
folder from the work directory without following symlinks, so a folder swapped for a symlink
after the check (by a command running at the same time) is refused rather than followed.
OPENSAGE_HOME, when it lies inside the work directory, is refused too (see config.py's trust
model: what a run can write must not become the next run's trusted configuration).

`resolve_inside` is that check for every kit's tools that take a path (the SWE and security kits'
too), and `open_beneath`/`open_regular`/`read_regular` the opens that follow no symlink, as are
`make_folders`, `regular_files` and `remove_file` for folders made, listed and emptied beneath
the work dir.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from opensage.core.context import RunContext
from opensage.core.tools import Tool, ToolError
from opensage.kits.base import Kit

MAX_READ_CHARS = 200_000
MAX_FILE_BYTES = 50 << 20
MAX_LISTED = 500


class FilesKit(Kit):
    name = "files"

    def tools(self, ctx: RunContext) -> list[Tool]:
        return files_tools(ctx.workdir, ctx.config.home)


def files_tools(workdir: Path, home: Path) -> list[Tool]:
    """read_file, write_file and list_files, confined to `workdir` and kept out of `home`."""
    root = workdir.resolve()
    guarded = guarded_home(root, home)

    def inside(path: str) -> Path:
        try:
            return resolve_inside(root, path, home)
        except ToolError as exc:  # this kit's refusals have always been PermissionErrors
            raise PermissionError(str(exc)) from None

    def read_file(path: str, start_line: int = 1, max_lines: int = 400) -> str:
        """Read a text file of the work directory, with line numbers.

        Args:
            path: the file's path, relative to the work directory.
            start_line: the first line to show (1-based).
            max_lines: how many lines to show at most.
        """
        # O_NONBLOCK: opening a FIFO a command left behind must not block; it is refused below.
        fd = open_regular(root, inside(path), os.O_RDONLY | os.O_NONBLOCK, path)
        with os.fdopen(fd, errors="replace") as file:
            if os.fstat(fd).st_size > MAX_FILE_BYTES:
                raise ValueError(
                    f"{path!r} is larger than {MAX_FILE_BYTES >> 20} MB; read it "
                    "with a command (head, sed -n) instead"
                )
            lines = file.read().splitlines()
        end = min(len(lines), start_line - 1 + max_lines)
        shown = [f"{n:>5}  {lines[n - 1]}" for n in range(max(1, start_line), end + 1)]
        more = f"\n[... {len(lines) - end} more lines]" if end < len(lines) else ""
        return "\n".join(shown)[:MAX_READ_CHARS] + more

    def write_file(path: str, content: str) -> str:
        """Create or overwrite a file of the work directory (parent folders are made).

        Args:
            path: the file's path, relative to the work directory.
            content: the whole new content of the file.
        """
        target = inside(path)
        # O_NONBLOCK: a FIFO with no reader is refused at once instead of blocking; O_TRUNC
        # comes after the regular-file check, so nothing else is truncated.
        fd = open_regular(
            root, target, os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK, path, make_parents=True
        )
        os.ftruncate(fd, 0)
        with os.fdopen(fd, "w") as out:
            out.write(content)
        return f"wrote {len(content)} characters to {target.relative_to(root)}"

    def list_files(path: str = ".") -> str:
        """List the files under a folder of the work directory, recursively.

        Args:
            path: the folder, relative to the work directory.
        """
        base = inside(path)
        names = sorted(
            str(p.relative_to(root)) + ("/" if p.is_dir() else "")
            for p in base.rglob("*")
            if not any(part.startswith(".") for part in p.relative_to(base).parts)
            and not in_home(p, guarded)
        )
        more = f"\n[... {len(names) - MAX_LISTED} more]" if len(names) > MAX_LISTED else ""
        return "\n".join(names[:MAX_LISTED]) + more or "(empty)"

    return [Tool(read_file), Tool(write_file), Tool(list_files)]


def guarded_home(root: Path, home: Path | None) -> Path | None:
    """OpenSage's home (resolved) when it lies in the work dir `root` (resolved), else None.
    It may (a run in $HOME, the home ~/.opensage); it holds every run's records and the user's
    trusted settings, so no tool may read or write it."""
    if home is None:
        return None
    home = Path(home).resolve()
    return home if home.is_relative_to(root) else None


def in_home(target: Path, guarded: Path | None) -> bool:
    """Whether the resolved `target` is OpenSage's home or in it (`guarded`: see guarded_home)."""
    return guarded is not None and target.is_relative_to(guarded)


def resolve_inside(root: Path, path: str, home: Path | None = None) -> Path:
    """The absolute, symlink-free path that `path` (relative to the work dir `root`, or
    absolute) names. A `ToolError` written for the model if it is no path, leads outside the
    work dir (symlinks included), or into OpenSage's `home` when that lies in the work dir.
    The one check every tool that takes a path makes; open what it returns with
    `open_beneath`, which follows no symlink swapped in after the check."""
    root = Path(root).resolve()
    if not path.strip() or "\0" in path:
        raise ToolError(
            f"{path!r} is not a path: give a file or folder relative to the work "
            f'directory {root} ("." for the work directory itself)'
        )
    target = (root / path).resolve()
    if not target.is_relative_to(root):
        via = " (through a symlink)" if (root / path).absolute() != target else ""
        raise ToolError(
            f"{path!r} leads outside the work directory {root}{via}: only files "
            "under it can be read or changed. Give a path relative to it"
        )
    guarded = guarded_home(root, home)
    if in_home(target, guarded):
        raise ToolError(
            f"{path!r} is in OpenSage's home ({guarded}), which keeps every run's "
            "records and the user's settings: no tool may read or write there. "
            "Work on the other files"
        )
    return target


def workdir_relative(path: str, root: Path) -> str:
    """A path a program printed (a traceback's, a report's) as the model knows it: relative to
    the work dir `root` (resolved) when it is an absolute path in it, else as it was given."""
    p = Path(path)
    if p.is_absolute() and p.is_relative_to(root):
        return str(p.relative_to(root))
    return path


def read_regular(root: Path, target: Path, limit: int) -> bytes | None:
    """At most `limit` bytes of the regular file `target` (a checked path under `root`),
    opened without following symlinks; None if it is missing, not a regular file, reached
    through a symlink or unreadable."""
    try:
        fd = open_regular(root, target, os.O_RDONLY | os.O_NONBLOCK, str(target))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as file:
        return file.read(limit)


def open_regular(
    root: Path, target: Path, flags: int, shown: str, make_parents: bool = False
) -> int:
    """`open_beneath`, refusing anything but a regular file (a folder, a FIFO, a device)."""
    try:
        fd = open_beneath(root, target, flags, make_parents)
    except OSError as exc:
        if exc.errno in (errno.ENXIO, errno.EISDIR):  # a FIFO with no reader; a folder
            raise FileNotFoundError(f"{shown!r} is not a regular file") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise FileNotFoundError(f"{shown!r} is not a regular file")
    return fd


def open_beneath(root: Path, target: Path, flags: int, make_parents: bool = False) -> int:
    """Open `target` (a checked path under `root`, symlinks already resolved) one component at
    a time, each relative to its parent's descriptor and with O_NOFOLLOW: no symlink is
    followed on the way, whatever changed since the check."""
    parts = target.relative_to(root).parts
    if not parts:
        raise IsADirectoryError("the work directory itself is a folder, not a file")
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in parts[:-1]:
            if make_parents:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
            parent, fd = fd, _open_nofollow(part, os.O_RDONLY | os.O_DIRECTORY, fd)
            os.close(parent)
        return _open_nofollow(parts[-1], flags, fd)
    finally:
        os.close(fd)


def _open_nofollow(name: str, flags: int, dir_fd: int) -> int:
    try:
        return os.open(name, flags | os.O_NOFOLLOW, 0o644, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise PermissionError(
                f"{name!r} is a symlink, or a file where a folder should "
                "be (changed since the path was checked?); refused"
            ) from None
        raise


def make_folders(root: Path, rel: str) -> None:
    """Make the folder `rel` under the work dir `root` and its parents (as `mkdir -p`), one
    component at a time, following no symlink; a `ToolError` if a file or a symlink is in the
    way."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in Path(rel).parts:
            with contextlib.suppress(FileExistsError):
                os.mkdir(part, 0o755, dir_fd=fd)
            try:
                child = _open_nofollow(part, os.O_RDONLY | os.O_DIRECTORY, fd)
            except OSError:
                raise ToolError(
                    f"{rel!r} in the work dir is not a folder (a file or a "
                    "symlink is in the way); remove it"
                ) from None
            os.close(fd)
            fd = child
    finally:
        os.close(fd)


def open_folder(root: Path, rel: str) -> int:
    """A descriptor of the folder `rel` under `root`, opened following no symlink."""
    if not Path(rel).parts:
        return os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    return open_beneath(root, root / rel, os.O_RDONLY | os.O_DIRECTORY)


def regular_files(root: Path, rel: str) -> dict[str, int]:
    """The regular files of the folder `rel` under `root`, with their sizes (no symlink
    followed); empty if the folder cannot be opened."""
    try:
        fd = open_folder(root, rel)
    except OSError:
        return {}
    try:
        with os.scandir(fd) as entries:
            return {
                entry.name: info.st_size
                for entry in entries
                if stat.S_ISREG((info := entry.stat(follow_symlinks=False)).st_mode)
            }
    finally:
        os.close(fd)


def remove_file(root: Path, rel: str) -> None:
    """Remove the file `rel` under `root` if it is there, reached following no symlink."""
    parent, name = os.path.split(rel)
    with contextlib.suppress(OSError):
        fd = open_folder(root, parent)
        try:
            os.unlink(name, dir_fd=fd)
        finally:
            os.close(fd)
