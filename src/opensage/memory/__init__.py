"""Memory: the long-term store, its embedders, and the run's execution graph. The tools agents
use are the `memory` kit's (opensage.kits.memory): importing the store loads no agent.

    from opensage.memory import MemoryStore
    store = MemoryStore(path)   # or a postgresql:// URL; by meaning too, with the vectors extra
    mid = store.add(text, kind="fact", metadata={...})
    hits = store.search(query, k=10)        # .id .text .score .metadata
"""

from __future__ import annotations

from opensage.memory.base import Hit, MemoryStore, Tuning, open_store
from opensage.memory.embed import Embedder, embedder_for
from opensage.memory.postgres import PostgresMemoryStore
from opensage.memory.store import SqliteMemoryStore

__all__ = [
    "Embedder",
    "Hit",
    "MemoryStore",
    "PostgresMemoryStore",
    "SqliteMemoryStore",
    "Tuning",
    "embedder_for",
    "open_store",
]
