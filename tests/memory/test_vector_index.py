"""The in-memory vector index ranks exactly as scoring every vector would, before and after it
turns large enough to score a head of each vector first."""

import sqlite3

import numpy as np
import pytest

from opensage.memory.store import SCHEMA
from opensage.memory.vectors import VectorIndex, to_blob


def _vectors(rng, count, dim=64):
    # Clustered, as sentence embeddings are: a few directions carry most of each vector.
    centres = rng.normal(size=(8, dim))
    raw = centres[rng.integers(0, 8, count)] + 0.4 * rng.normal(size=(count, dim))
    return (raw / np.linalg.norm(raw, axis=1, keepdims=True)).astype(np.float32)


def _write(db, first, vectors):
    with db:
        db.executemany(
            "INSERT OR REPLACE INTO vectors (id, model, vec) VALUES (?, 'm', ?)",
            [(first + i, to_blob(v)) for i, v in enumerate(vectors)],
        )


def _brute(stored, query, n):
    ids = np.array(sorted(stored))
    scores = np.stack([stored[i] for i in ids]) @ query
    order = np.argsort(-scores, kind="stable")[:n]
    return [int(ids[i]) for i in order]


@pytest.mark.parametrize("rotate_at", [10**9, 300])
def test_the_index_ranks_as_scoring_every_vector_would(monkeypatch, rotate_at):
    monkeypatch.setattr(VectorIndex, "ROTATE_AT", rotate_at)
    monkeypatch.setattr(VectorIndex, "HEAD", 16)
    rng = np.random.default_rng(3)
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    index = VectorIndex(db, "m", 64)
    stored = dict(enumerate(_vectors(rng, 2000), start=1))
    _write(db, 1, list(stored.values()))
    index.refresh()
    assert (index._rotation is not None) == (rotate_at == 300)
    # Written after the rotation, and one entry embedded again: both turned as they are read.
    later = _vectors(rng, 500)
    _write(db, 2001, later)
    stored.update(zip(range(2001, 2501), later, strict=True))
    again = _vectors(rng, 1)[0]
    _write(db, 7, [again])
    stored[7] = again
    index.refresh()
    for query in _vectors(rng, 20):
        for n in (1, 10, 200):
            found = index.nearest(query, n)
            assert [i for i, _ in found] == _brute(stored, query, n)
            assert np.allclose([s for _, s in found], [stored[i] @ query for i, _ in found])
