import multiprocessing
import os
import re
import secrets
import zlib

import numpy as np
import pytest

from opensage.memory import MemoryStore

# Words that mean the same thing to the concept embedder below.
CONCEPTS = [
    {"car", "automobile", "vehicle", "sedan"},
    {"dog", "puppy", "canine", "hound"},
    {"crash", "segfault", "abort", "panic"},
    {"quick", "fast", "rapid", "speedy"},
    {"config", "configuration", "settings", "yml"},
]


class ConceptEmbedder:
    """A deterministic stand-in for a real embedder: synonyms share a dimension, other words
    hash to their own. Real embedders are tested in test_embed.py."""

    name = "concepts-v1"
    dim = 64

    def __init__(self, name: str | None = None, fail: bool = False):
        self.name = name or self.name
        self.fail = fail
        self.calls = 0

    def embed(self, texts):
        self.calls += 1
        if self.fail:
            raise RuntimeError("the embedder is broken")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                concept = next((i for i, c in enumerate(CONCEPTS) if word in c), None)
                column = (
                    concept
                    if concept is not None
                    else len(CONCEPTS) + zlib.crc32(word.encode()) % (self.dim - len(CONCEPTS))
                )
                out[row, column] += 1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    """A real PostgreSQL server (the pgserver wheel bundles it), started once for the tests."""
    try:
        import pgserver
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("PostgreSQL tests need the postgres extra (pgserver, psycopg)")
    server = pgserver.get_server(tmp_path_factory.mktemp("pgdata"), cleanup_mode="stop")
    yield server


def new_database(server) -> str:
    """The URL of a new, empty database on the test server."""
    name = f"t_{secrets.token_hex(6)}"
    server.psql(f"CREATE DATABASE {name};")
    return server.get_uri().replace("/postgres?", f"/{name}?")


@pytest.fixture
def pg_store(pg_server):
    store = MemoryStore.open(new_database(pg_server), embedder=None)  # keywords only
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def location(request, tmp_path):
    """Where a new store of each backend is opened: a file's path, or a new database's URL."""
    if request.param == "sqlite":
        return tmp_path / "memory.db"
    return new_database(request.getfixturevalue("pg_server"))


@pytest.fixture(params=["sqlite", "postgres"])
def make_store(request, tmp_path):
    """Makes empty stores of one backend (a new file, or a new database)."""
    made = []

    def make(embedder=None, location=None):
        if location is None:
            location = (
                tmp_path / f"memory-{len(made)}.db"
                if request.param == "sqlite"
                else new_database(request.getfixturevalue("pg_server"))
            )
        store = MemoryStore.open(location, embedder)
        store.location = location
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def store(make_store):
    return make_store()


def in_processes(target, arguments):
    """Run `target` once for each tuple of arguments, each in a new process, all at once."""
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=target, args=args) for args in arguments]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
    assert [p.exitcode for p in workers] == [0] * len(workers)
