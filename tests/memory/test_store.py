"""Store semantics, run on both backends (SQLite, and a real PostgreSQL server)."""

import pytest

from opensage.memory import MemoryStore, PostgresMemoryStore, SqliteMemoryStore, open_store
from opensage.memory.base import QueryError

from .conftest import in_processes, new_database


def test_search_finds_by_content_words_and_word_forms(store):
    store.add("The build runs with make and needs cmake 3.25", kind="procedure")
    store.add("Alice prefers tabs over spaces")
    store.add("The staging server is at 10.0.0.7")
    hits = store.search("what is needed for running the builds?")
    assert hits[0].text.startswith("The build runs")  # "running" ~ "runs", "builds" ~ "build"
    assert hits[0].kind == "procedure" and hits[0].score > 0
    # A query of stop words alone still searches with them rather than finding nothing.
    assert sorted(h.id for h in store.search("the")) == [1, 3]


def test_a_newer_entry_supersedes_the_older_without_deleting_it(store):
    old = store.add("The API key rotates every 30 days")
    new = store.add("The API key rotates every 7 days", supersedes=old)
    assert [h.id for h in store.search("how often does the API key rotate")] == [new]
    both = store.search("API key rotate", include_superseded=True)
    assert {h.id for h in both} == {old, new}
    assert store.get(old).superseded_by == new
    assert [(t, h.id) for t, h in store.neighbours(new)] == [("supersedes", old)]
    assert store.stats()["superseded"] == 1


def test_links_pull_in_related_entries(store):
    lesson = store.add("Lesson: flaky tests in repo X come from a shared temp dir", kind="lesson")
    fix = store.add("Give each test its own tmp_path fixture", kind="procedure")
    store.link(lesson, fix, "fixed_by")
    ids = [h.id for h in store.search("why are the tests flaky?")]
    assert ids[:2] == [lesson, fix]  # the procedure shares no word with the question


def test_scopes_and_kinds_filter(store):
    a = store.add("deploy with make deploy", scope="project:/a")
    b = store.add("deploy with ./ship.sh", scope="project:/b")
    g = store.add("deploy only on weekdays", scope="global")
    found = {h.id for h in store.search("how to deploy", scopes=["project:/a", "global"])}
    assert found == {a, g} and b not in found
    assert [h.id for h in store.search("deploy", kind="fact", scopes=["project:/b"])] == [b]


def test_a_link_never_brings_in_an_entry_of_another_scope_or_kind(store):
    mine = store.add("deploy with make deploy", scope="project:/a")
    theirs = store.add("Lesson: the ship script needs a token", kind="lesson", scope="project:/b")
    procedure = store.add("Rotate the token monthly", kind="procedure", scope="project:/a")
    store.link(mine, theirs, "related")
    store.link(mine, procedure, "related")
    found = [h.id for h in store.search("deploy", scopes=["project:/a"], kind="fact")]
    assert found == [mine]
    # The control: without the filters, the links do pull both in.
    assert {theirs, procedure} <= {h.id for h in store.search("deploy")}


def test_bulk_insert_and_access_counts(store):
    ids = store.add_many([{"text": f"note number {i} about topic {i % 3}"} for i in range(30)])
    assert ids == list(range(1, 31))
    store.search("topic 2", k=3)
    accessed = store._db.execute("SELECT SUM(accessed) FROM entries").fetchone()[0]
    assert accessed == 3
    assert store.stats()["entries"] == 30


def test_the_location_picks_the_backend(tmp_path, pg_server):
    url = new_database(pg_server)
    for open_ in (open_store, MemoryStore, MemoryStore.open):
        sqlite, postgres = open_(tmp_path / "m.db"), open_(url)
        assert type(sqlite) is SqliteMemoryStore and sqlite.path == tmp_path / "m.db"
        assert type(postgres) is PostgresMemoryStore and postgres.url == url
        sqlite.close()
        postgres.close()


def test_a_read_only_query_returns_at_most_max_rows_and_never_writes(store):
    store.add_many([{"text": f"note {i}"} for i in range(5)])
    names, rows = store.read_only_query("SELECT id, text FROM entries ORDER BY id", 2)
    assert names == ["id", "text"] and [tuple(r) for r in rows] == [(1, "note 0"), (2, "note 1")]
    for statement in ("DELETE FROM entries", "INSERT INTO links VALUES (1, 2, 'x')"):
        with pytest.raises(QueryError):
            store.read_only_query(statement, 10)
    assert store.stats()["entries"] == 5 and store.links() == []


def _write(location, worker, count):
    store = MemoryStore.open(location, embedder=None)  # writers with vectors: test_vectors.py
    for i in range(count):
        store.add(f"worker {worker} note {i}")
    store.close()


def test_concurrent_writers_from_several_processes_lose_nothing(store):
    location = getattr(store, "url", None) or str(store.path)
    in_processes(_write, [(location, w, 40) for w in range(4)])
    assert store.stats()["entries"] == 160
    assert len(store.search("worker 3 note", k=200)) == 160


def test_context_is_searched_but_counts_less_than_text(store):
    in_context = store.add("It is rotated every month", context="Where is the deploy key kept?")
    in_text = store.add("The deploy key is kept in the vault")
    store.add("Lunch is at noon")
    assert [h.id for h in store.search("where is the deploy key?")] == [in_text, in_context]


def test_words_in_a_large_share_of_entries_are_not_scored(store, make_store):
    store.add_many([{"text": f"alpha report number {i}"} for i in range(1500)])
    target = store.add("alpha gamma incident summary")
    assert store._common(["alpha", "gamma"]) == {"alpha"}  # in 1501 of 1501 entries
    assert store.search("alpha gamma", k=1)[0].id == target
    assert len(store.search("alpha", k=5)) == 5  # a query of common words alone still runs
    small = make_store()
    small.add_many([{"text": "alpha"}] * 20)
    assert small._common(["alpha"]) == set()  # small stores never drop words


def test_among_equal_matches_the_newer_entry_comes_first(store):
    older = store.add("The release branch is named release-2025")
    newer = store.add("The release branch is named release-2026")
    assert [h.id for h in store.search("what is the release branch named?")] == [newer, older]


def test_a_small_scope_is_found_among_many_matches_elsewhere(store):
    store.add_many([{"text": f"deploy step {i}", "scope": "project:/other"} for i in range(300)])
    mine = store.add("deploy with make release", scope="project:/mine")
    found = store.search("deploy", k=5, scopes=["project:/mine", "global"])
    assert [h.id for h in found] == [mine]
