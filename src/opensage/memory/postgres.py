"""PostgresMemoryStore: the memory store on PostgreSQL, for many agents and processes at scale.

The same API and search as the SQLite store: keywords through a weighted `tsvector` (the text
weighted A, its context D; English stemming and stop words) with a GIN index, ranked by
`ts_rank`; vectors in pgvector with an HNSW index (cosine); links, scopes and superseding as in
SQLite. Needs the `postgres` extra (psycopg), and pgvector in the server for vectors.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from opensage.memory.base import (
    COLUMNS,
    QUALIFIED,
    Hit,
    MemoryStore,
    QueryError,
    hit_of,
    sql_filters,
    with_neighbours,
)
from opensage.memory.embed import Embedder
from opensage.memory.vectors import to_pgvector

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger("opensage.memory")

SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id            BIGSERIAL PRIMARY KEY,
    kind          TEXT NOT NULL,
    text          TEXT NOT NULL,
    context       TEXT NOT NULL DEFAULT '',
    metadata      JSONB NOT NULL DEFAULT '{}',
    scope         TEXT NOT NULL DEFAULT 'global',
    created       DOUBLE PRECISION NOT NULL,
    superseded_by BIGINT,
    source_run    TEXT,
    source_event  BIGINT,
    accessed      BIGINT NOT NULL DEFAULT 0,
    search        TSVECTOR GENERATED ALWAYS AS (
        setweight(to_tsvector('english', text), 'A') ||
        setweight(to_tsvector('english', context), 'D')) STORED,
    -- For queries of stop words alone, which the English configuration would drop.
    plain         TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
);
CREATE INDEX IF NOT EXISTS entries_search ON entries USING GIN (search);
CREATE INDEX IF NOT EXISTS entries_scope ON entries (scope, kind);
CREATE TABLE IF NOT EXISTS links (
    src  BIGINT NOT NULL,
    dst  BIGINT NOT NULL,
    type TEXT NOT NULL,
    PRIMARY KEY (src, dst, type)
);
CREATE INDEX IF NOT EXISTS links_dst ON links (dst);
"""
# One vector per entry; its dimension is the embedder's (one embedder per database).
VECTOR_SCHEMA = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS vectors (
    id        BIGINT PRIMARY KEY REFERENCES entries (id),
    model     TEXT NOT NULL,
    embedding vector({dim}) NOT NULL
);
CREATE INDEX IF NOT EXISTS vectors_cosine ON vectors USING hnsw (embedding vector_cosine_ops);
"""
LEXEME = re.compile(r"[a-z0-9_]+")


class PostgresMemoryStore(MemoryStore):
    def __init__(self, url: str, embedder: Embedder | str | None = "auto"):
        try:
            import psycopg
        except ImportError:
            raise RuntimeError(
                "the PostgreSQL memory store needs psycopg: pip install 'opensage[postgres]'"
            ) from None
        super().__init__(url, embedder)
        self.url = url
        self._db = psycopg.connect(url, autocommit=True)
        with self._db.transaction():
            # One creator at a time: concurrent CREATE ... IF NOT EXISTS can still collide.
            self._db.execute("SELECT pg_advisory_xact_lock(7216300)")
            self._db.execute(SCHEMA)
        if self.embedder is not None:
            self._open_vectors(self.embedder, psycopg.Error)

    def _open_vectors(self, embedder: Embedder, db_error: type[Exception]) -> None:
        """Create the vectors table; without pgvector, or with vectors of another dimension
        already there, the store warns and searches by keywords (they must always work)."""
        try:
            with self._db.transaction():
                self._db.execute("SELECT pg_advisory_xact_lock(7216300)")
                self._db.execute(VECTOR_SCHEMA.format(dim=int(embedder.dim)))
        except db_error as e:
            log.warning(
                "no vector search on this PostgreSQL server (%s); keywords only",
                str(e).splitlines()[0],
            )
            self.embedder = None
            return
        row = self._db.execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = "
            "'vectors'::regclass AND attname = 'embedding'"
        ).fetchone()
        if row and row[0] != embedder.dim:
            log.warning(
                "this database keeps vectors of dimension %s, and %s makes %s; keywords only",
                row[0],
                embedder.name,
                embedder.dim,
            )
            self.embedder = None

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
        vector = self._embed([text])
        with self._db.transaction():
            row = self._db.execute(
                "INSERT INTO entries (kind, text, context, metadata, scope, created, source_run, "
                "source_event) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
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
            ).fetchone()
            new = int(row[0]) if row else 0
            if supersedes is not None:
                self._db.execute(
                    "UPDATE entries SET superseded_by = %s WHERE id = %s", (new, supersedes)
                )
                self._db.execute(
                    "INSERT INTO links VALUES (%s, %s, 'supersedes') ON CONFLICT DO NOTHING",
                    (new, supersedes),
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
        entries = with_neighbours(entries, neighbours)
        now = time.time()
        vectors = self._embed([e["text"] for e in entries]) if embed else None
        ids = []
        with self._db.transaction():
            for e in entries:
                row = self._db.execute(
                    "INSERT INTO entries (kind, text, context, metadata, scope, created, "
                    "source_run, source_event) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                    "RETURNING id",
                    (
                        e.get("kind", "fact"),
                        e["text"],
                        e.get("context", ""),
                        json.dumps(e.get("metadata", {})),
                        e.get("scope", scope),
                        e.get("created", now),
                        e.get("source_run"),
                        e.get("source_event"),
                    ),
                ).fetchone()
                ids.append(int(row[0]) if row else 0)
            if vectors is not None:
                self._insert_vectors(list(zip(ids, vectors, strict=True)))
        return ids

    def read_only_query(
        self, sql: str, max_rows: int, seconds: float = 10
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        import psycopg

        db = psycopg.connect(self.url, options=f"-c statement_timeout={int(seconds * 1000)}")
        try:
            with db.transaction(force_rollback=True):  # whatever happens, nothing is kept
                db.execute("SET TRANSACTION READ ONLY")
                # Parameters (even none) make psycopg send one statement only: no "...; DELETE".
                cursor = db.execute(sql.replace("%", "%%"), ())  # % would be a placeholder
                return [d.name for d in cursor.description or ()], cursor.fetchmany(max_rows)
        except psycopg.Error as exc:
            raise QueryError(str(exc)) from None
        finally:
            db.close()

    MARK = "%s"

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._db.execute(sql, params).fetchall()

    def _write(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._db.execute(sql, params)

    def _location(self) -> dict[str, str]:
        return {"url": _without_password(self.url)}

    def _save_vectors(self, vectors: list[tuple[int, np.ndarray]]) -> None:
        with self._db.transaction():
            self._insert_vectors(vectors)

    def _insert_vectors(self, vectors: list[tuple[int, np.ndarray]]) -> None:
        """Within the caller's transaction, in a savepoint of its own: vectors the server
        refuses are lost (reindex adds them later), the entries written with them are not."""
        assert self.embedder is not None
        import psycopg

        try:
            with self._db.transaction(), self._db.cursor() as cur:
                cur.executemany(
                    "INSERT INTO vectors VALUES (%s, %s, %s::vector) ON CONFLICT (id) DO "
                    "UPDATE SET model = excluded.model, embedding = excluded.embedding",
                    [(i, self.embedder.name, to_pgvector(v)) for i, v in vectors],
                )
        except psycopg.Error as e:
            log.warning(
                "vectors not stored (%s); `opensage memory reindex` adds them later",
                str(e).splitlines()[0],
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
        lexemes = LEXEME.findall(" ".join(words))
        if not lexemes:
            return []
        column, config = ("plain", "simple") if plain else ("search", "english")
        filters, params = sql_filters(kind, scopes, include_superseded, "%s")
        filters.insert(0, f"{column} @@ q")
        # ts_rank's weights are for D, C, B, A: the context (D) counts less than the text (A).
        weights = f"'{{{float(self.tuning.context_weight)}, 0, 0, 1}}'"
        rows = self._db.execute(
            f"SELECT {COLUMNS}, ts_rank({weights}, {column}, q) AS score FROM entries e, "
            f"to_tsquery('{config}', %s) AS q WHERE {' AND '.join(filters)} "
            f"ORDER BY score DESC LIMIT %s",
            (" | ".join(lexemes), *params, want),
        ).fetchall()
        return [hit_of(r[:-1], float(r[-1])) for r in rows]

    def _nearest(
        self,
        vector: np.ndarray,
        want: int,
        kind: str | None,
        scopes: list[str] | None,
        include_superseded: bool,
        ranked: list[tuple[int, float]] | None = None,
    ) -> list[Hit]:
        if self.embedder is None:
            return []
        filters, params = sql_filters(kind, scopes, include_superseded, "%s")
        query = to_pgvector(vector)
        select = (
            f"SELECT {QUALIFIED}, "
            f"1 - (v.embedding <=> %s::vector) FROM vectors v JOIN entries e ON "
            f"e.id = v.id WHERE v.model = %s{''.join(' AND ' + f for f in filters)} "
        )
        args = (query, self.embedder.name, *params, query, want)
        with self._db.transaction():
            # HNSW returns ef_search candidates before the filters apply: ask for plenty.
            self._db.execute(f"SET LOCAL hnsw.ef_search = {min(1000, max(100, want * 4))}")
            rows = self._db.execute(
                select + "ORDER BY v.embedding <=> %s::vector LIMIT %s", args
            ).fetchall()
            if len(rows) < want and filters:
                # The filters left too few of the index's candidates (pgvector 0.6 cannot scan
                # on): rank exactly instead. "+ 0" keeps the planner off the index.
                rows = self._db.execute(
                    select + "ORDER BY (v.embedding <=> %s::vector) + 0 LIMIT %s", args
                ).fetchall()
        return [hit_of(r[:-1], float(r[-1])) for r in rows]

    def _count(self, word: str, limit: int) -> int:
        lexemes = LEXEME.findall(word)
        if not lexemes:
            return 0
        row = self._db.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM entries WHERE search @@ to_tsquery('english', "
            "%s) LIMIT %s) AS t",
            (" & ".join(lexemes), limit),
        ).fetchone()
        return int(row[0]) if row else 0


def _without_password(url: str) -> str:
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)
