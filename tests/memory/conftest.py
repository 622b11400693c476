import os
import secrets

import pytest

from opensage.memory import MemoryStore


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
    store = MemoryStore.open(new_database(pg_server))
    yield store
    store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def make_store(request, tmp_path):
    """Makes empty stores of one backend (a new file, or a new database)."""
    made = []

    def make():
        if request.param == "sqlite":
            store = MemoryStore(tmp_path / f"memory-{len(made)}.db")
        else:
            store = MemoryStore.open(new_database(request.getfixturevalue("pg_server")))
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


@pytest.fixture
def store(make_store):
    return make_store()
