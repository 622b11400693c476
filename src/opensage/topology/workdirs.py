"""Work-dir copies for ensemble members, and applying the chosen member's changes back."""

from __future__ import annotations

import filecmp
import os
import re
import shutil
import tempfile
from pathlib import Path

# Version-control state is not part of a member's answer: it is neither copied back nor deleted.
KEEP = {".git", ".hg", ".svn"}


def copy_workdir(source: Path, label: str, leave_out: Path | None = None) -> Path:
    """A private copy of `source` for one member, in a new temporary folder, without
    `leave_out` (OPENSAGE_HOME, when it lies inside: no run may read it)."""
    target = Path(tempfile.mkdtemp(prefix=f"opensage-{label}-")) / source.name
    skip = leave_out.resolve() if leave_out else None

    def ignored(folder: str, names: list[str]) -> list[str]:
        if skip is None or Path(folder).resolve() != skip.parent:
            return []
        return [skip.name] if skip.name in names else []

    shutil.copytree(source, target, symlinks=True, ignore=ignored)
    return target


def changes(original: Path, member: Path) -> tuple[list[str], list[str]]:
    """Files the member added or changed, and files it deleted (relative paths)."""
    changed: list[str] = []
    for root, dirs, files in os.walk(member):
        dirs[:] = [d for d in dirs if d not in KEEP]
        for name in files:
            path = Path(root, name)
            rel = path.relative_to(member)
            before = original / rel
            if path.is_symlink():
                if not before.is_symlink() or os.readlink(before) != os.readlink(path):
                    changed.append(str(rel))
            elif not before.is_file() or not filecmp.cmp(before, path, shallow=False):
                changed.append(str(rel))
    deleted = []
    for root, dirs, files in os.walk(original):
        dirs[:] = [d for d in dirs if d not in KEEP]
        for name in files:
            rel = Path(root, name).relative_to(original)
            if not (member / rel).exists() and not (member / rel).is_symlink():
                deleted.append(str(rel))
    return sorted(changed), sorted(deleted)


def apply_changes(
    base: Path, member: Path, target: Path, protect: Path | None = None
) -> tuple[list[str], list[str]]:
    """Apply to `target` what `member` changed relative to `base`, the snapshot it started
    from (outside version-control folders). Changes made to `target` meanwhile by anyone else
    are kept, except in the files the member changed too. Nothing is written through a symlink
    or outside `target`: a path whose folders in `target` are not plain folders inside it is
    refused, and so is any change at all if one is inside `protect` (OPENSAGE_HOME). Returns
    (changed, deleted)."""
    changed, deleted = changes(base, member)
    root = target.resolve()
    guarded = protect.resolve() if protect else None
    for rel in [*changed, *deleted]:
        if guarded is not None and (root / rel == guarded or guarded in (root / rel).parents):
            raise ValueError(f"refusing to apply {rel!r}: it is in OpenSage's home")
    for rel in changed:
        dest = _safe_destination(root, rel)
        if dest.is_dir() and not dest.is_symlink():
            shutil.rmtree(dest)  # the member turned a folder into a file
        elif dest.is_symlink() or dest.exists():
            dest.unlink()
        shutil.copy2(member / rel, dest, follow_symlinks=False)
    for rel in deleted:
        dest = _safe_destination(root, rel)
        if dest.is_symlink() or dest.is_file():
            dest.unlink()
    return changed, deleted


def _safe_destination(root: Path, rel: str) -> Path:
    """`root / rel`, its folders made as plain folders (a file in the way is replaced: the
    member turned it into a folder); refuses a symlink or anything leading outside `root`."""
    folder = root
    for part in Path(rel).parts[:-1]:
        if part in ("..", "") or Path(part).is_absolute():
            raise ValueError(f"refusing to apply {rel!r}: it leads outside the work dir")
        folder = folder / part
        if folder.is_symlink():
            raise ValueError(f"refusing to apply {rel!r}: {folder} is a symlink")
        if folder.exists() and not folder.is_dir():
            folder.unlink()
        folder.mkdir(exist_ok=True)
    if root not in folder.resolve().parents and folder.resolve() != root:
        raise ValueError(f"refusing to apply {rel!r}: it leads outside the work dir")
    return folder / Path(rel).name


def normalize(answer: str | None) -> str:
    """An answer as a vote counts it: case, spacing and trailing punctuation do not matter."""
    text = re.sub(r"\s+", " ", (answer or "").strip().lower())
    return text.rstrip(".!")
