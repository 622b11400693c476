"""Opening the SQLite files OpenSage keeps under OPENSAGE_HOME."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_db(path: Path, schema: str) -> sqlite3.Connection:
    """A connection in WAL mode (readers never wait for the writer), with `schema` applied."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30.0)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(schema)
    return db
