"""A folder as `view` shows it: two levels deep, hidden and .gitignore'd entries left out."""

from __future__ import annotations

import os
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.output import LIMIT
from opensage.kits.swe.ignore import GIT_IGNORE_FILES, Ignores
from opensage.kits.swe.workspace import Workspace

TREE_MAX_ENTRIES = 300
TREE_MAX_CHARS = LIMIT - 1_000
TREE_MAX_CHILDREN = 30  # per folder of the second level


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
