"""Copying a SQLite memory into another store, PostgreSQL included."""

from typer.testing import CliRunner

from opensage.cli import app
from opensage.memory import MemoryStore
from opensage.memory.transfer import copy_store


def _source(path):
    store = MemoryStore(path)
    old = store.add(
        "The API key rotates every 30 days",
        scope="project:/a",
        source_run="r1",
        source_event=7,
        metadata={"tags": ["keys"]},
    )
    new = store.add("The API key rotates every 7 days", scope="project:/a", supersedes=old)
    lesson = store.add("Rotate keys with ./rotate.sh", kind="procedure")
    store.link(lesson, new, "related")
    return store, (old, new, lesson)


def test_a_copy_keeps_entries_links_and_superseding(tmp_path, make_store):
    source, (old, new, lesson) = _source(tmp_path / "source.db")
    destination = make_store()
    ids = copy_store(source, destination, batch=2)
    assert len(ids) == 3
    copied = destination.get(ids[old])
    assert copied.text == "The API key rotates every 30 days" and copied.scope == "project:/a"
    assert copied.metadata == {"tags": ["keys"]} and copied.superseded_by == ids[new]
    assert copied.created == source.get(old).created
    row = destination.rows(ids[old] - 1, 1)[0]
    assert (row["source_run"], row["source_event"]) == ("r1", 7)
    assert {(t, h.id) for t, h in destination.neighbours(ids[new])} == {
        ("supersedes", ids[old]),
        ("related", ids[lesson]),
    }
    # The superseded entry stays out of search in the copy too.
    assert {
        h.id
        for h in destination.search("how often do keys rotate", scopes=["project:/a", "global"])
    } == {ids[new], ids[lesson]}


def test_memory_copy_cli(home, tmp_path):
    runner = CliRunner()
    home.mkdir(parents=True, exist_ok=True)
    (home / "opensage.toml").write_text('[memory]\nembedder = "none"\n')
    source, _ = _source(home / "memory.db")
    source.close()
    done = runner.invoke(app, ["memory", "copy", str(tmp_path / "copy.db")])
    assert "copied 3 entries and 2 links" in done.stdout
    again = runner.invoke(app, ["memory", "copy", str(tmp_path / "copy.db")])
    assert again.exit_code == 2 and "already has entries" in again.stderr
    stats = MemoryStore(tmp_path / "copy.db").stats()
    assert stats["superseded"] == 1 and stats["links"] == 2
