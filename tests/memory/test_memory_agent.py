import json

import pytest

from opensage import Agent
from opensage.core.events import EventLog
from opensage.core.tools import ToolError
from opensage.memory import MemoryStore
from opensage.memory.agent import instructions, read_only_sql

from ..topology.conftest import call, team_model
from .conftest import ConceptEmbedder

MEMORY = instructions()


def test_ask_memory_answers_citing_entry_ids(home, tmp_path):
    store = MemoryStore(home / "memory.db")
    old = store.add("The staging database is db-old.internal")
    new = store.add("The staging database moved to db2.internal", supersedes=old)
    store.close()
    model = team_model(
        {
            "ROOT": [
                call("ask_memory", question="Which host is the staging database on?"),
                lambda m: call("finish", answer=m[-1].content),
            ],
            MEMORY: [
                call("search_memory", query="staging database host"),
                lambda m: call("get_entry", entry_id=json.loads(m[-1].content)[0]["id"]),
                lambda m: call(
                    "finish",
                    answer=(
                        f"db2.internal [#{json.loads(m[-1].content)['id']}] "
                        f"(it replaced [#{old}], and see [#999])"
                    ),
                ),
            ],
        }
    )
    result = Agent("root", "ROOT", model=model, kits=["memory"]).run_sync("go", workdir=tmp_path)
    assert result.answer.startswith(f"db2.internal [#{new}]")
    assert "(note: cited entries [999] do not exist)" in result.answer
    starts = EventLog.open(home / "events.db").events(result.run_id, ("agent_started",))
    assert [s.data["name"] for s in starts] == ["root", "memory"]
    assert result.usage.requests == 2 + 3  # the memory agent's calls count in the run's


def test_the_memory_agent_reads_the_runs_history(home, tmp_path):
    model = team_model(
        {
            "ROOT": [
                call("write_file", path="notes.md", content="x"),
                call("ask_memory", question="What did this run change?"),
                lambda m: call("finish", answer=m[-1].content),
            ],
            MEMORY: [call("files_changed"), lambda m: call("finish", answer=m[-1].content)],
        }
    )
    result = Agent("root", "ROOT", model=model, kits=["files", "memory"]).run_sync(
        "go", workdir=tmp_path
    )
    assert json.loads(result.answer) == {"notes.md": ["write_file(path='notes.md', content='x')"]}


def test_memory_sql_reads_and_refuses_to_write(tmp_path):
    store = MemoryStore(tmp_path / "memory.db")
    store.add("one fact", kind="fact")
    rows = json.loads(read_only_sql(store, "SELECT id, kind, text FROM entries"))
    assert rows == [{"id": 1, "kind": "fact", "text": "one fact"}]
    for statement in (
        "DELETE FROM entries",
        "UPDATE entries SET text = 'x'",
        "ATTACH DATABASE '/tmp/x.db' AS x",
        "DROP TABLE links",
    ):
        with pytest.raises(ToolError, match="SQL error"):
            read_only_sql(store, statement)
    assert store.get(1).text == "one fact"


def test_memory_sql_is_read_only_on_postgres_too(pg_store):
    store = pg_store
    store.add("one fact", kind="fact")
    rows = json.loads(read_only_sql(store, "SELECT id, kind, text FROM entries"))
    assert rows == [{"id": 1, "kind": "fact", "text": "one fact"}]
    with pytest.raises(ToolError, match="SQL error: .*read-only transaction"):
        read_only_sql(store, "DELETE FROM entries")
    assert store.get(1).text == "one fact"


def test_the_memory_kit_uses_postgres_when_configured(pg_store, home, tmp_path):
    store = pg_store
    home.mkdir(exist_ok=True)  # the user's own file: a project's may not choose the database
    (home / "opensage.toml").write_text(f'[memory]\nurl = "{store.url}"\n')
    model = team_model(
        {
            "ROOT": [
                call("remember", content="PostgreSQL holds this fact"),
                call("recall", query="which database holds the fact"),
                lambda m: call("finish", answer=m[-1].content),
            ]
        }
    )
    result = Agent("root", "ROOT", model=model, kits=["memory"]).run_sync("go", workdir=tmp_path)
    assert json.loads(result.answer)[0]["text"] == "PostgreSQL holds this fact"
    assert store.stats()["entries"] == 1


def test_memory_sql_on_postgres_refuses_a_second_statement_that_writes(pg_store):
    pg_store.add("keep me")
    with pytest.raises(ToolError, match="SQL error"):
        read_only_sql(pg_store, "SET TRANSACTION READ WRITE; DELETE FROM entries")
    assert json.loads(read_only_sql(pg_store, "SELECT text FROM entries WHERE text LIKE 'k%'"))
    assert pg_store.stats()["entries"] == 1


def test_memory_sql_stops_a_runaway_query(tmp_path, monkeypatch):
    import opensage.memory.agent as agent

    monkeypatch.setattr(agent, "SQL_SECONDS", 0.5)
    store = MemoryStore(tmp_path / "memory.db", embedder=None)  # no need to embed 300 rows
    store.add_many([{"text": f"row {i}"} for i in range(300)])
    with pytest.raises(ToolError, match="SQL error: interrupted"):
        read_only_sql(store, "SELECT COUNT(*) FROM entries a, entries b, entries c, entries d")


def test_facts_about_a_subject_come_with_their_links(home, tmp_path):
    store = MemoryStore(home / "memory.db")
    fact = store.add("The billing service listens on port 9090", kind="fact")
    fix = store.add("Restart billing with systemctl restart billing", kind="procedure")
    store.link(fact, fix, "how_to_fix")
    store.close()
    model = team_model(
        {
            "ROOT": [
                call("ask_memory", question="What do we know about billing?"),
                lambda m: call("finish", answer=m[-1].content),
            ],
            MEMORY: [
                call("facts_about", subject="billing service"),
                lambda m: call("finish", answer=m[-1].content),
            ],
        }
    )
    result = Agent("root", "ROOT", model=model, kits=["memory"]).run_sync("go", workdir=tmp_path)
    found = {e["id"]: e for e in json.loads(result.answer)}
    assert found[fact]["links"] == [{"link": "how_to_fix", "id": fix}]
    assert found[fix]["kind"] == "procedure"


def test_memory_sql_shows_a_vector_as_its_size(tmp_path):
    store = MemoryStore(tmp_path / "memory.db", ConceptEmbedder())
    store.add("one fact")
    assert json.loads(read_only_sql(store, "SELECT id, vec FROM vectors")) == [
        {"id": 1, "vec": "<256 bytes>"}
    ]
