"""Vector search in the store, on both backends, with a deterministic concept embedder."""

import logging
import sqlite3
from dataclasses import replace

import pytest

from opensage.memory import MemoryStore, SqliteMemoryStore

from .conftest import ConceptEmbedder, in_processes


def _fill(store):
    auto = store.add("My automobile is a red Toyota")
    store.add_many(
        [
            {"text": "Bought groceries on Monday"},
            {"text": "The red paint on the fence is peeling"},
            {"text": "Lunch was a sandwich"},
        ]
    )
    return auto


def test_entries_alike_in_meaning_are_found_without_a_shared_word(make_store):
    store = make_store(ConceptEmbedder())
    auto = _fill(store)
    assert store.search("which car do I drive")[0].id == auto
    # The control: by keywords alone, "car" and "drive" find nothing.
    keywords_only = make_store()
    _fill(keywords_only)
    assert auto not in [h.id for h in keywords_only.search("which car do I drive")]


def test_keyword_and_vector_evidence_add_up(make_store):
    store = make_store(ConceptEmbedder())
    both = store.add("The red automobile needs paint")
    store.add("The red fence needs paint")  # newer: recency alone would put it first
    store.add("A sedan is parked outside")
    # "red" and "paint" match two entries by keywords; only one is also a car.
    assert store.search("red car paint")[0].id == both


def test_a_search_whose_vectors_weigh_nothing_embeds_no_query(make_store):
    embedder = ConceptEmbedder()
    store = make_store(embedder)
    _fill(store)
    store.search("which car do I drive")
    embedded = embedder.calls
    store.tuning = replace(store.tuning, vector_weight=0.0)
    store.search("which car do I drive")
    assert embedder.calls == embedded  # the query's vector would be thrown away


def test_vector_hits_obey_scopes_kinds_and_superseding(make_store):
    store = make_store(ConceptEmbedder())
    old = store.add("The puppy is called Rex", scope="project:/a")
    new = store.add("The puppy is called Max", scope="project:/a", supersedes=old)
    elsewhere = store.add("The hound is called Bo", scope="project:/b")
    lesson = store.add("Never feed the canine chocolate", kind="lesson", scope="project:/a")
    store.add_many([{"text": f"unrelated note {i}", "scope": "project:/a"} for i in range(60)])
    found = [h.id for h in store.search("dog", scopes=["project:/a"])]
    assert found[:2] in ([new, lesson], [lesson, new])
    assert old not in found and elsewhere not in found
    assert [h.id for h in store.search("dog", kind="lesson")] == [lesson]
    assert old in [h.id for h in store.search("dog", include_superseded=True)]


def test_reindex_embeds_what_was_written_without_an_embedder(make_store):
    plain = make_store()
    auto = _fill(plain)
    store = make_store(ConceptEmbedder(), location=plain.location)
    assert store.stats()["vectors"] == 0
    assert auto not in [h.id for h in store.search("vehicle")]
    assert store.reindex(batch=3) == 4
    assert store.reindex() == 0
    assert store.stats()["vectors"] == 4
    assert store.search("vehicle")[0].id == auto


def test_a_bulk_import_embedded_later_is_found_by_keywords_first_then_by_meaning(make_store):
    embedder = ConceptEmbedder()
    store = make_store(embedder)
    store.add("Lunch was a sandwich")  # the store searches by meaning already
    auto, _ = store.add_many(
        [{"text": "My automobile is a red Toyota"}, {"text": "Bought groceries"}], embed=False
    )
    assert store.search("red Toyota")[0].id == auto  # by keywords at once
    assert auto not in [h.id for h in store.search("which car do I drive")]
    assert store.reindex() == 2
    assert store.search("which car do I drive")[0].id == auto


def test_vectors_of_another_embedder_are_never_compared(make_store):
    first = make_store(ConceptEmbedder("concepts-v1"))
    _fill(first)
    second = make_store(ConceptEmbedder("concepts-v2"), location=first.location)
    assert second.stats()["vectors"] == 0
    assert second.reindex() == 4 and second.stats()["vectors"] == 4
    assert first.stats()["vectors"] == 0  # v1's vectors were replaced, one vector an entry


def test_a_failing_embedder_loses_no_entry(make_store, caplog):
    broken = ConceptEmbedder(fail=True)
    store = make_store(broken)
    with caplog.at_level(logging.WARNING, logger="opensage.memory"):
        auto = store.add("My automobile is a red Toyota")
        store.add_many([{"text": "Lunch was a sandwich"}])
    assert "embedder failed" in caplog.text
    assert store.search("red Toyota")[0].id == auto  # keywords still work
    broken.fail = False
    assert store.reindex() == 2
    assert store.search("vehicle")[0].id == auto


def test_writes_through_another_connection_are_searchable(make_store):
    reader = make_store(ConceptEmbedder())
    reader.add("Lunch was a sandwich")
    assert reader.search("sandwich")  # the reader's vectors are loaded now
    writer = make_store(ConceptEmbedder(), location=reader.location)
    auto = writer.add("My automobile is a red Toyota")
    assert reader.search("vehicle")[0].id == auto


def test_stats_name_the_embedder(make_store):
    store = make_store(ConceptEmbedder())
    _fill(store)
    stats = store.stats()
    assert stats["embedder"] == "concepts-v1" and stats["vectors"] == 4
    assert make_store().stats()["embedder"] is None


def _write_with_vectors(location, worker, count):
    store = MemoryStore.open(location, ConceptEmbedder())
    for i in range(count):
        store.add(f"worker {worker} drives a sedan, note {i}")
    store.close()


def test_concurrent_writers_from_several_processes_keep_every_vector(make_store):
    store = make_store(ConceptEmbedder())
    in_processes(_write_with_vectors, [(str(store.location), w, 25) for w in range(4)])
    assert store.stats()["vectors"] == 100
    found = store.similar("automobile", k=200)
    assert len(found) == 100 and all(h.score > 0.3 for h in found)


def _bulk_write_with_vectors(location, worker):
    store = MemoryStore.open(location, ConceptEmbedder())
    for batch in range(10):
        store.add_many(
            [
                {"text": f"worker {worker} batch {batch} item {i} {word}"}
                for i, word in enumerate(["sedan", "puppy", "panic", "speedy"])
            ]
        )
    store.close()


def test_bulk_writers_from_several_processes_keep_each_vector_on_its_entry(make_store):
    store = make_store(ConceptEmbedder())
    in_processes(_bulk_write_with_vectors, [(str(store.location), w) for w in range(4)])
    assert store.stats()["vectors"] == 160
    for concept, word in (("vehicle", "sedan"), ("hound", "puppy"), ("crash", "panic")):
        found = [h for h in store.similar(concept, k=200) if h.score > 0.1]  # the others: 0
        assert len(found) == 40 and all(word in h.text for h in found), concept


def test_a_filtered_search_among_many_vectors_finds_all_it_should(make_store):
    store = make_store(ConceptEmbedder())
    # Elsewhere, 3,000 entries closer to the query than any of the 30 in the scope searched.
    store.add_many([{"text": f"sedan car vehicle {i}", "scope": "big"} for i in range(3000)])
    small = store.add_many([{"text": f"a car note {i}", "scope": "small"} for i in range(30)])
    if isinstance(store, SqliteMemoryStore):  # as in SQLite builds with the default limit, lower
        store._db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    else:  # make PostgreSQL use its HNSW index, whose candidates the filters then thin out
        store._db.execute("SET enable_seqscan = off")
        store._db.execute("SET enable_sort = off")
    found = store.similar("automobile", k=20, scopes=["small"])
    assert len(found) == 20 and {h.id for h in found} <= set(small)
    hits = store.search("vehicle", k=30, scopes=["small"])
    assert {h.id for h in hits} == set(small)


def test_a_bulk_insert_cannot_be_overtaken_by_another_writer(tmp_path):
    """Another connection tries to insert while add_many is between reading the last id and
    inserting: it must wait, or the new ids (and their vectors) would be shifted."""
    store = MemoryStore(tmp_path / "m.db", ConceptEmbedder())
    store.add("first entry")
    other = sqlite3.connect(tmp_path / "m.db", timeout=0.05)
    tried: list[str] = []

    def meanwhile(statement):
        if statement.startswith(("BEGIN ", "SELECT COALESCE(MAX(id)")) and not statement.startswith(
            "BEGIN IMMEDIATE"
        ):
            try:
                with other:
                    other.execute(
                        "INSERT INTO entries (kind, text, created) VALUES "
                        "('fact', 'from elsewhere', 0)"
                    )
                tried.append("inserted")
            except sqlite3.OperationalError:
                tried.append("locked out")

    store._db.set_trace_callback(meanwhile)
    ids = store.add_many([{"text": "My automobile is red"}, {"text": "Lunch was a sandwich"}])
    store._db.set_trace_callback(None)
    assert tried == ["locked out"]
    assert [store.get(i).text for i in ids] == ["My automobile is red", "Lunch was a sandwich"]
    assert store.search("vehicle")[0].id == ids[0]


class Malformed(ConceptEmbedder):
    def __init__(self, how):
        super().__init__()
        self.how = how

    def embed(self, texts):
        vectors = super().embed(texts)
        if self.how == "rows":
            return vectors[:-1]
        vectors[:, 0] = float("nan")
        return vectors


@pytest.mark.parametrize("how", ["rows", "nan"])
def test_malformed_vectors_lose_no_entry(make_store, caplog, how):
    store = make_store(Malformed(how))
    with caplog.at_level(logging.WARNING, logger="opensage.memory"):
        ids = store.add_many([{"text": "My automobile is a red Toyota"}, {"text": "Lunch"}])
        one = store.add("The puppy is called Rex")
    assert "embedder failed" in caplog.text
    assert store.stats()["entries"] == 3 and store.stats()["vectors"] == 0
    assert store.search("Toyota")[0].id == ids[0] and store.get(one) is not None


class Impossible(ConceptEmbedder):
    dim = 0  # pgvector refuses a vector(0) column, as a server without pgvector refuses all


class Narrower(ConceptEmbedder):
    name, dim = "narrower", 32


@pytest.mark.parametrize(
    ("embedder", "warning"),
    [
        (Impossible, "no vector search"),  # a server without pgvector
        (Narrower, "dimension 64"),  # a database with another embedder's vectors
    ],
)
def test_postgres_without_usable_vectors_keeps_keyword_search(pg_store, caplog, embedder, warning):
    if embedder is Narrower:
        MemoryStore.open(pg_store.url, ConceptEmbedder()).close()  # makes vector(64)
    with caplog.at_level(logging.WARNING, logger="opensage.memory"):
        store = MemoryStore.open(pg_store.url, embedder())
    try:
        assert warning in caplog.text and store.embedder is None
        entry = store.add("My automobile is a red Toyota")
        assert store.search("Toyota")[0].id == entry
    finally:
        store.close()


def test_postgres_refusing_a_vector_keeps_its_entry(pg_store, caplog, monkeypatch):
    store = MemoryStore.open(pg_store.url, ConceptEmbedder())
    monkeypatch.setattr("opensage.memory.postgres.to_pgvector", lambda v: "[not a vector")
    try:
        with caplog.at_level(logging.WARNING, logger="opensage.memory"):
            one = store.add("My automobile is a red Toyota")
            many = store.add_many([{"text": "Lunch was a sandwich"}])
        assert "vectors not stored" in caplog.text
        assert store.stats()["entries"] == 2 and store.stats()["vectors"] == 0
        assert store.get(one) is not None and store.get(many[0]) is not None
        monkeypatch.undo()
        assert store.reindex() == 2 and store.search("vehicle")[0].id == one
    finally:
        store.close()
