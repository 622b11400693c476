"""Copying a memory store into another: how a SQLite memory moves to PostgreSQL.

Entries keep their kind, text, context, metadata, scope, creation time and provenance; links and
superseding are carried over with the new ids. The destination computes its own vectors (with
its embedder), so it need not use the source's.
"""

from __future__ import annotations

from opensage.memory.base import MemoryStore


def copy_store(source: MemoryStore, destination: MemoryStore, batch: int = 500) -> dict[int, int]:
    """Copy every entry and link; returns the new id of each source id."""
    new_id: dict[int, int] = {}
    superseded: list[tuple[int, int]] = []
    after = 0
    while rows := source.rows(after, batch):
        ids = destination.add_many(rows)
        for row, new in zip(rows, ids, strict=True):
            new_id[row["id"]] = new
            if row["superseded_by"] is not None:
                superseded.append((row["id"], row["superseded_by"]))
        after = rows[-1]["id"]
    for entry, by in superseded:
        if by in new_id:
            destination.mark_superseded(new_id[entry], new_id[by])
    for src, dst, type in source.links():
        if src in new_id and dst in new_id:
            destination.link(new_id[src], new_id[dst], type)
    return new_id
