"""Opening the SQLite files OpenSage keeps under OPENSAGE_HOME, or saying clearly why not.

Every store (the event log, the memory, the tool and agent libraries) opens its file here, so a
damaged file, a read-only home or a home that is a file gives the same one-line `StateError`
(what is wrong, where, what to do) instead of a traceback. A file that does not look like an
intact SQLite database is refused before SQLite opens it: nothing recorded in it is overwritten.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from opensage.errors import ConfigError

HEADER = b"SQLite format 3\x00"


class StateError(ConfigError):
    """A file or folder where OpenSage keeps its state cannot be used; the message says what
    to do. A ConfigError, so that every command already reporting those reports this too."""


def open_db(path: Path, schema: str) -> sqlite3.Connection:
    """A connection in WAL mode (readers never wait for the writer), with `schema` applied."""
    db = connect(path)
    with explained(path):
        db.executescript(schema)
    return db


def connect(path: Path) -> sqlite3.Connection:
    """A connection in WAL mode to the database at `path` (made if missing), refusing a file
    that is not an intact SQLite database and a folder that cannot hold one."""
    check_folder(path.parent)
    _check_intact(path)
    with explained(path):
        db = sqlite3.connect(path, timeout=30.0)
        db.execute("PRAGMA journal_mode=WAL")
    return db


def check_folder(folder: Path, make: bool = True) -> None:
    """Make `folder` (OpenSage's home, usually) if missing and `make`; a clear error if it is
    a file or cannot be made."""
    if folder.exists() and not folder.is_dir():
        raise StateError(
            f"{folder} is a file, but OpenSage keeps its state in a folder there: "
            "move the file away, or set OPENSAGE_HOME to a folder"
        )
    if not make:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(
            f"cannot create {folder} ({exc.strerror}): make its parent writable, "
            "or set OPENSAGE_HOME to a folder you can write"
        ) from None


@contextmanager
def explained(path: Path) -> Iterator[None]:
    """Turn SQLite's errors about the file at `path` into a StateError saying what to do."""
    try:
        yield
    except sqlite3.DatabaseError as exc:  # OperationalError (locked, read-only...) included
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise StateError(
                f"{path} is locked by another process ({text}); wait for it to finish, or stop it"
            ) from None
        if "readonly" in text or "unable to open" in text or "disk I/O" in text:
            raise StateError(
                f"cannot write {path} ({text}): make {path.parent} writable, or "
                "set OPENSAGE_HOME to a folder you can write"
            ) from None
        raise StateError(damaged(path, text)) from None


def damaged(path: Path, why: str) -> str:
    return (
        f"{path} is damaged ({why}); it was left untouched. Move it aside to start a new "
        f"one (mv {path} {path}.damaged) or restore a backup; `sqlite3 FILE .recover` may "
        "save what it holds"
    )


def _check_intact(path: Path) -> None:
    """Refuse a file that is not SQLite's, or is shorter than its header says (truncated):
    SQLite would open it and could write into it. An empty file is a new database."""
    try:
        with open(path, "rb") as file:
            header = file.read(100)
            size = os.fstat(file.fileno()).st_size
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StateError(
            f"cannot read {path} ({exc.strerror}): make it readable, or set "
            "OPENSAGE_HOME to a folder you can use"
        ) from None
    if not header:
        return
    if len(header) < 100 or not header.startswith(HEADER):
        raise StateError(damaged(path, "it is not an SQLite database"))
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    # The page count is valid when the change counter matches "version valid for"; a WAL
    # with content may hold pages not yet copied into the file (another process is using it).
    count_valid = pages and header[24:28] == header[92:96]
    if count_valid and size < pages * page_size and not _wal_in_use(path):
        raise StateError(damaged(path, f"it is truncated: {size} of {pages * page_size} bytes"))


def _wal_in_use(path: Path) -> bool:
    try:
        return os.stat(f"{path}-wal").st_size > 0
    except OSError:
        return False
