"""What the SWE kit's host-side readers share: gitignore patterns and the walk of a work dir.

`IgnoreRules` reads the patterns of one folder's ignore files as git does (checked against
`git check-ignore` and `git ls-files --others --exclude-standard` in the tests): the deepest
folder's files speak first, the last matching pattern wins, `!` re-includes, `**` spans folders
(`docs/**` matches what is in docs, not docs itself, so `!docs/keep.md` brings that file back),
and nothing under an ignored folder comes back. `walk_files` walks the work dir without
following symlinks, skipping hidden and ignored entries; `Ignores` answers for single paths (a
folder's view). Ignore files are read through the files kit's no-symlink-escape opens.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from opensage.kits.files import open_beneath, read_regular


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
            end = pattern.find("]", i + 2 if pattern[i + 1 : i + 2] in ("!", "^") else i + 1)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1 : end]
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
        sub = rel[len(self.base) + 1 :] if self.base else rel
        for regex, negated, dir_only in reversed(self.rules):
            if dir_only and not is_dir:
                continue
            if regex.match(sub):
                return not negated
        return None


IGNORE_FILES = (".gitignore", ".ignore", ".rgignore")  # ripgrep's, which search runs
GIT_IGNORE_FILES = (".gitignore",)
EXCLUDE = ".git/info/exclude"  # the repository's own, below every .gitignore
IGNORE_FILE_BYTES = 1 << 20


def ignored(levels: list[IgnoreRules], rel: str, is_dir: bool) -> bool:
    for level in reversed(levels):  # the deepest folder's file speaks first
        verdict = level.match(rel, is_dir)
        if verdict is not None:
            return verdict
    return False


def _rules_of(
    root: Path, folder: Path, rel: str, names: Iterable[str] = IGNORE_FILES
) -> IgnoreRules | None:
    """The patterns of the ignore files `names` (relative paths) of `folder`."""
    level = IgnoreRules(rel)
    for name in names:
        data = read_regular(root, folder / name, IGNORE_FILE_BYTES)
        if data:
            level.add(data.decode(errors="replace"))
    return level if level.rules else None


class Ignores:
    """What the ignore files `names` (and .git/info/exclude) say of any path of the work dir
    `root`, each folder's files read once, on first need, through safe opens: for a view of a
    folder, where no walk goes down the tree."""

    def __init__(self, root: Path, names: Iterable[str] = IGNORE_FILES):
        self.root = Path(root).resolve()
        self.names = tuple(names)
        self._levels: dict[str, list[IgnoreRules]] = {}

    def ignored(self, rel: str, is_dir: bool) -> bool:
        """Whether the entry at `rel` (relative to the root, `/`-separated) is ignored."""
        return ignored(self._levels_of(rel.rpartition("/")[0]), rel, is_dir)

    def _levels_of(self, folder: str) -> list[IgnoreRules]:
        """The rules that speak for the entries of `folder`, the shallowest first."""
        if folder not in self._levels:
            if folder:
                above = self._levels_of(folder.rpartition("/")[0])
                own = [_rules_of(self.root, self.root / folder, folder, self.names)]
            else:
                above = []
                own = [
                    _rules_of(self.root, self.root, "", [EXCLUDE]),
                    _rules_of(self.root, self.root, "", self.names),
                ]
            self._levels[folder] = [*above, *(level for level in own if level)]
        return self._levels[folder]


# --- the walk -------------------------------------------------------------------------------


@dataclass(slots=True)
class WalkedFile:
    rel: str  # relative to the work dir, `/`-separated
    size: int
    mtime_ns: int


def walk_files(
    root: Path,
    base: Path,
    *,
    exclude: Iterable[Path] = (),
    keep: Callable[[str], bool] | None = None,
    max_depth: int = 64,
) -> Iterator[WalkedFile]:
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
        for names in ([EXCLUDE], IGNORE_FILES) if depth == 0 else (IGNORE_FILES,):
            level = _rules_of(root, folder, rel, names)
            if level:
                levels.append(level)
    if base == root:
        level = _rules_of(root, root, "", [EXCLUDE])
        if level:
            levels.append(level)
    try:
        fd = (
            os.open(root, os.O_RDONLY | os.O_DIRECTORY)
            if base == root
            else open_beneath(root, base, os.O_RDONLY | os.O_DIRECTORY)
        )
    except OSError:
        return
    start = "" if base == root else shown_path(root, base)
    yield from _walk(root, fd, start, levels, excluded, keep, max_depth)


def _walk(
    root: Path,
    fd: int,
    rel: str,
    levels: list[IgnoreRules],
    excluded: set[Path],
    keep: Callable[[str], bool] | None,
    depth: int,
) -> Iterator[WalkedFile]:
    try:
        with os.scandir(fd) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        os.close(fd)
        return
    # This folder's own ignore files speak for its entries (read only where they exist).
    present = [
        e.name for e in entries if e.name in IGNORE_FILES and e.is_file(follow_symlinks=False)
    ]
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
                    sub = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
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
