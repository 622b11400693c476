"""SqliteMemoryStore, the embedded memory store: one SQLite file, searched by keywords
(FTS5/BM25), meaning (vectors, when an embedder is installed), links and recency; see base.py
for what every store shares.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensage.core.db import open_db
from opensage.memory.base import (
    QUALIFIED,
    Hit,
    MemoryStore,
    QueryError,
    hit_of,
    sql_filters,
    with_neighbours,
)
from opensage.memory.embed import Embedder
from opensage.memory.vectors import VectorIndex, to_blob

if TYPE_CHECKING:
    import numpy as np

__all__ = ["SqliteMemoryStore"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,
    text          TEXT NOT NULL,
    context       TEXT NOT NULL DEFAULT '',  -- searchable, weighted less: where it came from
    metadata      TEXT NOT NULL DEFAULT '{}',
    scope         TEXT NOT NULL DEFAULT 'global',
    created       REAL NOT NULL,
    superseded_by INTEGER,
    source_run    TEXT,
    source_event  INTEGER,
    accessed      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS entries_scope ON entries (scope, kind);
CREATE VIRTUAL TABLE IF NOT EXISTS entries_fts USING fts5(
    text, context, content='entries', content_rowid='id', tokenize='porter unicode61');
CREATE TRIGGER IF NOT EXISTS entries_ai AFTER INSERT ON entries BEGIN
    INSERT INTO entries_fts (rowid, text, context) VALUES (new.id, new.text, new.context);
END;
CREATE TRIGGER IF NOT EXISTS entries_ad AFTER DELETE ON entries BEGIN
    INSERT INTO entries_fts (entries_fts, rowid, text, context)
    VALUES ('delete', old.id, old.text, old.context);
END;
CREATE TABLE IF NOT EXISTS links (
    src  INTEGER NOT NULL,
    dst  INTEGER NOT NULL,
    type TEXT NOT NULL,
    PRIMARY KEY (src, dst, type)
);
CREATE INDEX IF NOT EXISTS links_dst ON links (dst);
CREATE TABLE IF NOT EXISTS vectors (
    seq   INTEGER PRIMARY KEY,  -- insertion order, for reading new vectors incrementally
    id    INTEGER NOT NULL UNIQUE,
    model TEXT NOT NULL,        -- vectors of different embedders are never compared
    vec   BLOB NOT NULL         -- float32, unit length
);
"""


class SqliteMemoryStore(MemoryStore):
    """The embedded store: one SQLite file, FTS5 (BM25, Porter stemming) for keywords, and
    an in-memory matrix of the entries' vectors (see vectors.py) when it has an embedder."""

    def __init__(self, path: str | Path, embedder: Embedder | str | None = "auto"):
        super().__init__(path, embedder)
        self.path = Path(path)
        self._db = open_db(self.path, SCHEMA)
        self._index: VectorIndex | None = None  # made at the first search by meaning

    def close(self) -> None:
        super().close()
        self._db.close()

    # --- writing ------------------------------------------------------------------------------

    def add(
        self,
        text: str,
        kind: str = "fact",
        metadata: dict[str, Any] | None = None,
        *,
        scope: str = "global",
        context: str = "",
        source_run: str | None = None,
        source_event: int | None = None,
        supersedes: int | None = None,
    ) -> int:
        """Store an entry; with `supersedes`, the older entry stays but is marked outdated.
        `context` (the conversation around a remark, the file a snippet is from) is searched
        too, with less weight than the text."""
        vector = self._embed([text])
        with self._db:
            cur = self._db.execute(
                "INSERT INTO entries (kind, text, context, metadata, scope, created, source_run, "
                "source_event) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    kind,
                    text,
                    context,
                    json.dumps(metadata or {}),
                    scope,
                    time.time(),
                    source_run,
                    source_event,
                ),
            )
            new = int(cur.lastrowid or 0)
            if supersedes is not None:
                self._db.execute(
                    "UPDATE entries SET superseded_by = ? WHERE id = ?", (new, supersedes)
                )
                self._db.execute(
                    "INSERT OR IGNORE INTO links VALUES (?, ?, 'supersedes')", (new, supersedes)
                )
            if vector is not None:
                self._insert_vectors([(new, vector[0])])
        return new

    def add_many(
        self,
        entries: list[dict[str, Any]],
        scope: str = "global",
        *,
        neighbours: int = 0,
        embed: bool = True,
    ) -> list[int]:
        """Bulk insert (one transaction); see `MemoryStore.add_many`."""
        entries = with_neighbours(entries, neighbours)
        now = time.time()
        vectors = self._embed([e["text"] for e in entries]) if embed else None
        with self._db:
            # Write-locked before reading the last id: another process's insert between the
            # two would otherwise shift our ids, and our vectors onto its entries.
            self._db.execute("BEGIN IMMEDIATE")
            first = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM entries").fetchone()[0]
            self._db.executemany(
                "INSERT INTO entries (kind, text, context, metadata, scope, created, source_run, "
                "source_event) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.get("kind", "fact"),
                        e["text"],
                        e.get("context", ""),
                        json.dumps(e.get("metadata", {})),
                        e.get("scope", scope),
                        e.get("created", now),
                        e.get("source_run"),
                        e.get("source_event"),
                    )
                    for e in entries
                ],
            )
            ids = list(range(first + 1, first + 1 + len(entries)))
            if vectors is not None:
                self._insert_vectors(list(zip(ids, vectors, strict=True)))
        return ids

    def read_only_query(
        self, sql: str, max_rows: int, seconds: float = 10
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        # A read-only connection whose authorizer allows reading alone (no ATTACH, no pragma
        # that writes), interrupted by its progress handler once the time is up.
        db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        deadline = time.monotonic() + seconds
        db.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        allowed = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION}

        def authorize(action: int, *args: Any) -> int:
            return sqlite3.SQLITE_OK if action in allowed else sqlite3.SQLITE_DENY

        db.set_authorizer(authorize)
        try:
            cursor = db.execute(sql)
            return [d[0] for d in cursor.description or ()], cursor.fetchmany(max_rows)
        except sqlite3.Error as exc:
            raise QueryError(str(exc)) from None
        finally:
            db.close()

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._db.execute(sql, params).fetchall()

    def _write(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self._db:
            self._db.execute(sql, params)

    def _location(self) -> dict[str, str]:
        return {"path": str(self.path)}

    def _save_vectors(self, vectors: list[tuple[int, np.ndarray]]) -> None:
        with self._db:
            self._insert_vectors(vectors)

    def _insert_vectors(self, vectors: list[tuple[int, np.ndarray]]) -> None:
        assert self.embedder is not None
        self._db.executemany(
            "INSERT OR REPLACE INTO vectors (id, model, vec) VALUES (?, ?, ?)",
            [(i, self.embedder.name, to_blob(v)) for i, v in vectors],
        )

    # --- the search primitives ----------------------------------------------------------------

    def _keyword(
        self,
        words: list[str],
        want: int,
        kind: str | None,
        scopes: list[str] | None,
        include_superseded: bool,
        plain: bool = False,
    ) -> list[Hit]:
        match = " OR ".join(f'"{w}"' for w in words)
        filters, params = sql_filters(kind, scopes, include_superseded)
        context = float(self.tuning.context_weight)
        # Rank inside FTS5 first (its own top-N), then join and filter only those rows; if the
        # filters leave too few, widen the cut until they do or nothing more matches.
        cut = want * (4 if filters else 1)
        while True:
            rows = self._db.execute(
                f"SELECT {QUALIFIED}, hits.score FROM (SELECT rowid, bm25(entries_fts, 1.0, "
                f"{context}) AS score FROM entries_fts WHERE entries_fts MATCH ? ORDER BY "
                f"score LIMIT ?) AS hits JOIN entries e ON e.id = hits.rowid "
                f"{'WHERE ' + ' AND '.join(filters) if filters else ''} ORDER BY hits.score",
                (match, cut, *params),
            ).fetchall()
            if len(rows) >= want or not filters or cut >= self._size():
                return [hit_of(r[:-1], -r[-1]) for r in rows[:want]]
            cut *= 8

    def _vector_ranker(self) -> Callable[[np.ndarray, int], list[tuple[int, float]]] | None:
        index = self._vectors()
        if index is None:
            return None
        index.refresh()
        return index.nearest

    def _vectors(self) -> VectorIndex | None:
        if self.embedder is not None and self._index is None:
            self._index = VectorIndex(self._db, self.embedder.name, self.embedder.dim)
        return self._index

    def _nearest(
        self,
        vector: np.ndarray,
        want: int,
        kind: str | None,
        scopes: list[str] | None,
        include_superseded: bool,
        ranked: list[tuple[int, float]] | None = None,
    ) -> list[Hit]:
        index = self._vectors()
        if index is None:
            return []
        index.refresh()
        filters, params = sql_filters(kind, scopes, include_superseded)
        # As for keywords: the nearest first, then the filters; wider if they leave too few.
        cut = want * (4 if filters else 1)
        while True:
            enough = ranked is not None and (len(ranked) >= cut or len(ranked) == len(index))
            nearest = ranked[:cut] if ranked is not None and enough else index.nearest(vector, cut)
            cosine = dict(nearest)
            # The ids as one JSON parameter: a widened cut can pass SQLite's variable limit.
            rows = (
                self._db.execute(
                    f"SELECT {QUALIFIED} FROM entries e WHERE e.id IN (SELECT value FROM "
                    f"json_each(?)){''.join(' AND ' + f for f in filters)}",
                    (json.dumps(list(cosine)), *params),
                ).fetchall()
                if nearest
                else []
            )
            if len(rows) >= want or not filters or cut >= len(index):
                hits = sorted((hit_of(r, cosine[r[0]]) for r in rows), key=lambda h: -h.score)
                return hits[:want]
            cut *= 8

    def _count(self, word: str, limit: int) -> int:
        return int(
            self._db.execute(
                "SELECT COUNT(*) FROM (SELECT 1 FROM entries_fts WHERE entries_fts MATCH ? "
                "LIMIT ?)",
                (f'"{word}"', limit),
            ).fetchone()[0]
        )
