"""The viewer's memory pages on a PostgreSQL store: the same search, entry, links and graph,
read in read-only transactions."""

from __future__ import annotations

import pytest

from opensage.config import Config
from opensage.memory import MemoryStore
from opensage.ui.app import home_of
from opensage.ui.library import Memory

from ..memory.conftest import new_database, pg_server  # noqa: F401 - a fixture

pytestmark = pytest.mark.slow


def test_memory_on_postgres_is_searched_and_drawn_read_only(pg_server, tmp_path):  # noqa: F811
    url = new_database(pg_server)
    store = MemoryStore(url, embedder=None)
    old = store.add(
        "The deploy key rotates every 30 days",
        kind="fact",
        metadata={"tags": ["keys"]},
        source_run="20260101-000000-aaaaaa",
        source_event=7,
    )
    new = store.add("The deploy key rotates every 7 days", supersedes=old)
    how = store.add("Rotate keys with scripts/rotate.sh", kind="procedure")
    store.link(how, new, "related")
    store.close()
    memory = Memory(home_of(Config(home=tmp_path / "home", memory_url=url)))
    found = memory.search("how often does the deploy key rotate")
    assert [e["id"] for e in found][:1] == [new] and old not in [e["id"] for e in found]
    assert [e["id"] for e in memory.search("rotate", superseded=True)].count(old) == 1
    assert [e["kind"] for e in memory.search("", kind="procedure")] == ["procedure"]
    entry = memory.get(old)
    assert entry is not None and entry["metadata"] == {"tags": ["keys"]}
    assert entry["superseded_by"] == new and entry["provenance"]["run"] == "20260101-000000-aaaaaa"
    assert {(n["id"], n["depth"]) for n in entry["graph"]["nodes"]} == {
        (old, 0),
        (new, 1),
        (how, 2),
    }
    assert memory.stats() == {
        "entries": 3,
        "superseded": 1,
        "links": 2,
        "by_kind": {"fact": 1, "procedure": 1},
    }
    assert memory.get(999) is None
    with pytest.raises(Exception, match="read-only transaction"):
        memory.db.connection().execute("DELETE FROM entries")
