"""A fuzz call's seeds: the files it is given (a folder, or a list of files and folders, read
without following a symlink out of the work dir), copied into the corpus under their SHA-1 as
libFuzzer names its own inputs, so that an input the corpus holds already stays one file."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.files import open_folder
from opensage.kits.security.workbench import Workbench

MAX_SEED_FILES = 10_000
MAX_SEED_BYTES = 1 << 20  # a seed file larger than this is left out (libFuzzer's max_len is 4096)


def seed_files(bench: Workbench, seeds: str | Sequence[str] | None) -> list[Path]:
    """The files `seeds` names, its folders walked in name order (a hidden path, OpenSage's
    home, left out), at most MAX_SEED_FILES."""
    if seeds is None:
        return []
    files: list[Path] = []
    for item in [seeds] if isinstance(seeds, str) else list(seeds):
        path = bench.path(item, "seed")
        if not path.is_dir():
            files.append(path)
            continue
        for folder, dirs, names in os.walk(path):  # symlinks to folders are not followed
            here = Path(folder)
            dirs[:] = sorted(d for d in dirs if here / d not in bench.hidden)
            files += [here / n for n in sorted(names)]
    return files[:MAX_SEED_FILES]


def copy_seeds(bench: Workbench, files: list[Path], corpus: str, notes: list[str]) -> int:
    """Copies seed files into the corpus, named by their SHA-1 (as libFuzzer names its own).
    Each is read with the files kit's rules: no symlink out of the work dir is followed."""
    copied, large, unreadable = 0, 0, 0
    if not files:
        return 0
    out_dir = open_folder(bench.root, corpus)
    try:
        for path in files:
            try:
                with bench.open(path) as src:
                    data = src.read(MAX_SEED_BYTES + 1)
            except (OSError, ToolError):
                unreadable += 1
                continue
            if len(data) > MAX_SEED_BYTES:
                large += 1
                continue
            out = os.open(
                hashlib.sha1(data).hexdigest(),
                os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW,
                0o644,
                dir_fd=out_dir,
            )
            with os.fdopen(out, "wb") as dst:
                dst.write(data)
            copied += 1
    finally:
        os.close(out_dir)
    if large:
        notes.append(f"{large} seed files over {MAX_SEED_BYTES >> 20} MB left out")
    if unreadable:
        notes.append(
            f"{unreadable} seed paths left out: not regular files in the work dir "
            "(symlinks out of it, FIFOs...)"
        )
    return copied
