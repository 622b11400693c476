"""The `files` kit: read, write and list files inside the run's work directory.

Paths are resolved against the work directory, symlinks included, and refused if they lead
outside it: the model can only touch the tree it was given.
"""

from __future__ import annotations

import os
from pathlib import Path

from opensage.core.tools import Tool
from opensage.kits import KitContext

MAX_READ_CHARS = 200_000
MAX_FILE_BYTES = 50 << 20
MAX_LISTED = 500


def files_kit(ctx: KitContext) -> list[Tool]:
    root = ctx.workdir.resolve()

    def inside(path: str) -> Path:
        target = (root / path).resolve()
        if target != root and root not in target.parents:
            raise PermissionError(f"{path!r} is outside the work directory")
        return target

    def read_file(path: str, start_line: int = 1, max_lines: int = 400) -> str:
        """Read a text file of the work directory, with line numbers.

        Args:
            path: the file's path, relative to the work directory.
            start_line: the first line to show (1-based).
            max_lines: how many lines to show at most.
        """
        target = inside(path)
        if not target.is_file():  # a folder, a FIFO a command left behind (reading one blocks)
            raise FileNotFoundError(f"{path!r} is not a regular file")
        if target.stat().st_size > MAX_FILE_BYTES:
            raise ValueError(f"{path!r} is larger than {MAX_FILE_BYTES >> 20} MB; read it with "
                             "a command (head, sed -n) instead")
        lines = target.read_text(errors="replace").splitlines()
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
        target.parent.mkdir(parents=True, exist_ok=True)
        # O_NOFOLLOW: a symlink swapped in after the check above is refused, not followed.
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
        with os.fdopen(fd, "w") as out:
            out.write(content)
        return f"wrote {len(content)} characters to {target.relative_to(root)}"

    def list_files(path: str = ".") -> str:
        """List the files under a folder of the work directory, recursively.

        Args:
            path: the folder, relative to the work directory.
        """
        base = inside(path)
        names = sorted(str(p.relative_to(root)) + ("/" if p.is_dir() else "")
                       for p in base.rglob("*")
                       if not any(part.startswith(".") for part in p.relative_to(base).parts))
        more = f"\n[... {len(names) - MAX_LISTED} more]" if len(names) > MAX_LISTED else ""
        return "\n".join(names[:MAX_LISTED]) + more or "(empty)"

    return [Tool(read_file), Tool(write_file), Tool(list_files)]
