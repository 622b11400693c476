"""Nearest-neighbour search over the SQLite store's vectors, in memory.

The vectors live in the store's `vectors` table (float32 blobs); this index mirrors them in
memory and ranks them exactly, with no SQLite extension (many Python builds cannot load one).
Rows are read once and then incrementally, by their insertion order, so writes from other
processes show up at the next search.

Scoring every vector in full reads the whole matrix (150 MB for 100,000 entries of 384
dimensions: 10-20 ms, bound by memory). Past `ROTATE_AT` rows the vectors are turned once into
the basis of their principal directions (a rotation: every dot product stays the same), where
the first `HEAD` dimensions hold most of each vector: a search scores those first, and each
vector's rest can add at most |its rest| x |the query's rest| (Cauchy-Schwarz). Only the
vectors whose bound reaches the n-th best exact score found among the best heads are scored in
full, so the ranking is the same as scoring all, from about a quarter of the reads.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


class VectorIndex:
    ROTATE_AT = 20_000  # rows: below, scoring all in full takes a few milliseconds
    HEAD = 96  # dimensions scored first, in the rotated basis
    SAMPLE = 5_000  # rows the principal directions are computed from

    def __init__(self, db: sqlite3.Connection, model: str, dim: int):
        import numpy as np

        self._db, self._model, self._dim = db, model, dim
        self._seq = 0  # the last `vectors.seq` read
        self._head_dims = min(self.HEAD, dim)
        # Buffers with room to grow (new rows are written past the published part, so a refresh
        # does not copy the whole matrix), and the published part, replaced whole: a search in
        # another thread sees a consistent set. Only an entry embedded again has its row
        # overwritten in place. Each vector is kept as its head, its rest and its rest's norm.
        self._ids = np.zeros(1024, dtype=np.int64)
        self._head = np.zeros((1024, self._head_dims), dtype=np.float32)
        self._tail = np.zeros((1024, dim - self._head_dims), dtype=np.float32)
        self._tail_norm = np.zeros(1024, dtype=np.float32)
        self._rotation: np.ndarray | None = None  # None: the vectors as stored
        self._row_of: dict[int, int] = {}  # entry id -> row
        self._publish(0)

    def nearest(self, query: np.ndarray, n: int) -> list[tuple[int, float]]:
        """The n entries most like `query` (a unit vector), with their cosine, best first,
        among the vectors read by the last `refresh`. Uses no database: any thread may call
        it."""
        import numpy as np

        ids, head, tail, tail_norm, rotation = self._data
        if not len(ids) or n <= 0:
            return []
        n = min(n, len(ids))
        q = (query @ rotation if rotation is not None else query).astype(np.float32)
        q_head, q_tail = q[: self._head_dims], q[self._head_dims :]
        # einsum, not BLAS: this runs beside the keyword search (see MemoryStore.search),
        # and a multithreaded BLAS product would take the core SQLite is working on.
        heads = np.einsum("ij,j->i", head, q_head)
        if rotation is None or 4 * n >= len(ids):
            scores = heads + np.einsum("ij,j->i", tail, q_tail)
            rows = np.arange(len(ids))
        else:
            # The n-th best exact score among the best heads is a floor for the n-th best of
            # all: only a vector whose head plus its largest possible rest reaches it can be
            # among the n best.
            best = np.argpartition(-heads, 4 * n - 1)[: 4 * n]
            exact = heads[best] + tail[best] @ q_tail
            floor = np.partition(exact, len(exact) - n)[len(exact) - n]
            bound = heads + tail_norm * float(np.linalg.norm(q_tail))
            rows = np.flatnonzero(bound >= floor - 1e-5)  # the margin: float32 rounding
            scores = heads[rows] + np.einsum("ij,j->i", tail[rows], q_tail)
        top = np.argpartition(-scores, n - 1)[:n] if n < len(scores) else np.arange(len(scores))
        # Among equal scores the older entry first: the same order whichever way they were
        # scored.
        top = top[np.lexsort((rows[top], -scores[top]))]
        return [(int(ids[rows[i]]), float(scores[i])) for i in top]

    def __len__(self) -> int:
        return len(self._data[0])

    def refresh(self) -> None:
        """Read the vectors written since the last refresh, by any connection. Call it from
        the connection's thread only."""
        import numpy as np

        rows = self._db.execute(
            "SELECT seq, id, vec FROM vectors WHERE seq > ? AND model = ? ORDER BY seq",
            (self._seq, self._model),
        ).fetchall()
        if not rows:
            return
        count = len(self._row_of)
        at, fresh = [], []
        for _, entry, blob in rows:
            vector = np.frombuffer(blob, dtype=np.float32)
            if vector.shape != (self._dim,):
                continue  # not this model's shape: never compared
            row = self._row_of.get(entry)
            if row is None:  # a new entry (an entry embedded again keeps its row)
                if count == len(self._ids):
                    self._grow()
                row = self._row_of[entry] = count
                self._ids[row] = entry
                count += 1
            at.append(row)
            fresh.append(vector)
        self._seq = rows[-1][0]
        if fresh:
            self._put(np.array(at), np.stack(fresh))
        if self._rotation is None and count >= self.ROTATE_AT:
            self._rotate(count)
        self._publish(count)

    def _put(self, rows: np.ndarray, vectors: np.ndarray) -> None:
        """Write vectors into their rows (an entry is read once a refresh: embedding it again
        replaces its row in the table), turned if the index has turned."""
        import numpy as np

        if self._rotation is not None:
            vectors = vectors @ self._rotation
        self._head[rows] = vectors[:, : self._head_dims]
        self._tail[rows] = vectors[:, self._head_dims :]
        rest = vectors[:, self._head_dims :]
        self._tail_norm[rows] = np.sqrt(np.einsum("ij,ij->i", rest, rest))

    def _rotate(self, count: int) -> None:
        """Turn the vectors into the basis of their principal directions (the eigenvectors of
        an even sample's covariance, largest first); later vectors are turned as they are
        read."""
        import numpy as np

        step = max(1, count // self.SAMPLE)
        sample = np.hstack([self._head[:count:step], self._tail[:count:step]]).astype(np.float64)
        sample -= sample.mean(axis=0)  # (in float64: LAPACK's float32 eigh was 10x slower here)
        _, vectors = np.linalg.eigh(sample.T @ sample)
        rotation = np.ascontiguousarray(vectors[:, ::-1], dtype=np.float32)
        h = self._head_dims
        # Into new buffers (a search in another thread may be reading the published ones), by
        # blocks of rows (no third copy of the matrix at once).
        head, tail = np.zeros_like(self._head), np.zeros_like(self._tail)
        tail_norm = np.zeros_like(self._tail_norm)
        for start in range(0, count, 8192):
            end = min(start + 8192, count)
            turned = self._head[start:end] @ rotation[:h] + self._tail[start:end] @ rotation[h:]
            head[start:end], tail[start:end] = turned[:, :h], turned[:, h:]
            tail_norm[start:end] = np.sqrt(np.einsum("ij,ij->i", turned[:, h:], turned[:, h:]))
        self._head, self._tail, self._tail_norm = head, tail, tail_norm
        self._rotation = rotation

    def _publish(self, count: int) -> None:
        self._data = (
            self._ids[:count],
            self._head[:count],
            self._tail[:count],
            self._tail_norm[:count],
            self._rotation,
        )

    def _grow(self) -> None:
        import numpy as np

        size = len(self._ids) * 2
        old = len(self._ids)
        ids = np.zeros(size, dtype=np.int64)
        head = np.zeros((size, self._head.shape[1]), dtype=np.float32)
        tail = np.zeros((size, self._tail.shape[1]), dtype=np.float32)
        tail_norm = np.zeros(size, dtype=np.float32)
        ids[:old], head[:old], tail[:old], tail_norm[:old] = (
            self._ids,
            self._head,
            self._tail,
            self._tail_norm,
        )
        self._ids, self._head, self._tail, self._tail_norm = ids, head, tail, tail_norm


def to_blob(vector: np.ndarray) -> bytes:
    import numpy as np

    return np.asarray(vector, dtype=np.float32).tobytes()


def to_pgvector(vector: np.ndarray) -> str:
    """pgvector's text form, cast with ::vector in the query (no adapter package needed)."""
    return "[" + ",".join(f"{x:.7g}" for x in vector.tolist()) + "]"
