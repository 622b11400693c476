"""Read-only access to the files under OPENSAGE_HOME, for the viewer.

Every SQLite file is opened with a `mode=ro` URI: the viewer can read what runs write (WAL lets
a reader see each commit of a writer in another process) but can change nothing, not even by a
bug of its own. A file that does not exist yet reads as empty, and is looked for again at the
next request (the first run creates the event log).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from opensage.core.events import SCHEMA_VERSION


class StoreError(Exception):
    """A file the viewer reads is unusable (another schema, damaged); the message says so."""


class ReadOnly:
    """One SQLite file opened read-only, one connection per thread (the server's worker
    threads each get theirs, so none waits for another)."""

    postgres = False

    def __init__(self, path: Path, schema_version: int | None = None):
        self.path = path
        self.schema_version = schema_version
        self._local = threading.local()

    def connection(self) -> sqlite3.Connection | None:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is not None:
            return db
        if not self.path.is_file():
            return None
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        try:
            db = sqlite3.connect(
                uri, uri=True, isolation_level=None, check_same_thread=False, timeout=10.0
            )
            db.execute("PRAGMA query_only = ON")
            if self.schema_version is not None:
                found = db.execute("PRAGMA user_version").fetchone()[0]
                if found != self.schema_version:
                    db.close()
                    raise StoreError(
                        f"{self.path} has schema {found}; this viewer reads "
                        f"schema {self.schema_version}"
                    )
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} cannot be read: {exc}") from None
        self._local.db = db
        return db

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        db = self.connection()
        if db is None:
            return []
        try:
            return db.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):  # a file made but not yet given its tables
                return []
            raise StoreError(f"{self.path}: {exc}") from None

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        found = self.rows(sql, params)
        return found[0] if found else None


class PostgresReadOnly:
    """The memory on PostgreSQL, read in sessions whose transactions are read-only (the server
    refuses any write), one connection per thread. Queries are written with `?` as for SQLite.
    """

    postgres = True

    def __init__(self, url: str):
        self.url = url
        self._local = threading.local()

    def connection(self) -> Any:
        db = getattr(self._local, "db", None)
        if db is None or db.closed:
            try:
                import psycopg
            except ImportError:
                raise StoreError(
                    "the memory is on PostgreSQL: the viewer needs psycopg "
                    "(pip install 'opensage[postgres]')"
                ) from None
            try:
                db = psycopg.connect(
                    self.url,
                    autocommit=True,
                    connect_timeout=10,
                    options="-c default_transaction_read_only=on",
                )
            except psycopg.Error as exc:
                raise StoreError(f"the memory's database cannot be read: {exc}") from None
            self._local.db = db
        return db

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        import psycopg

        try:
            return list(self.connection().execute(sql.replace("?", "%s"), params).fetchall())
        except psycopg.errors.UndefinedTable:
            return []
        except psycopg.Error as exc:
            raise StoreError(f"the memory's database: {exc}") from None

    def one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        found = self.rows(sql, params)
        return found[0] if found else None


class Home:
    """The stores of one OPENSAGE_HOME, read-only."""

    def __init__(self, events: Path, tools: Path, agents: Path, memory: Path | str):
        self.events = ReadOnly(events, SCHEMA_VERSION)
        self.tools = ReadOnly(tools)
        self.agents = ReadOnly(agents)
        self.memory_location = memory
        self.memory: ReadOnly | PostgresReadOnly = (
            PostgresReadOnly(str(memory))
            if str(memory).startswith(("postgresql://", "postgres://"))
            else ReadOnly(Path(memory))
        )
