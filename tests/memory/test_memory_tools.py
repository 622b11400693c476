import json

import pytest
from typer.testing import CliRunner

from opensage import Agent
from opensage.cli import app
from opensage.core.events import EventLog
from opensage.memory.embed import available

from ..topology.conftest import call, team_model


def run(home, workdir, steps):
    result = Agent("root", "ROOT", model=team_model({"ROOT": steps}), kits=["memory"]).run_sync(
        "go", workdir=workdir
    )
    assert result.ok, result
    return result


def test_memory_written_in_one_run_is_recalled_in_the_next(home, tmp_path):
    first = run(
        home,
        tmp_path,
        [
            call(
                "remember",
                content="The test suite needs PGHOST=127.0.0.1",
                kind="lesson",
                tags=["tests"],
            ),
            call("remember", content="Always answer in British English", everywhere=True),
            call("finish", answer="noted"),
        ],
    )
    (written, _) = EventLog.open(home / "events.db").events(first.run_id, ("memory_written",))
    assert written.data["kind"] == "lesson"
    second = run(
        home,
        tmp_path,
        [
            call("recall", query="what do the tests need?"),
            lambda m: call("finish", answer=m[-1].content),
        ],
    )
    hits = json.loads(second.answer)
    assert hits[0]["text"] == "The test suite needs PGHOST=127.0.0.1"
    assert hits[0]["kind"] == "lesson" and hits[0]["tags"] == ["tests"]
    # Another project sees only what was kept for every project.
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    third = run(
        home,
        elsewhere,
        [
            call("recall", query="tests English answer"),
            lambda m: call("finish", answer=m[-1].content),
        ],
    )
    assert [h["text"] for h in json.loads(third.answer)] == ["Always answer in British English"]


def test_memory_cli(home, tmp_path):
    runner = CliRunner()
    assert (
        runner.invoke(
            app, ["memory", "add", "The cache lives in /var/cache/app", "--kind", "fact"]
        ).exit_code
        == 0
    )
    notes = tmp_path / "notes.txt"
    notes.write_text("Deploys happen on Tuesdays\nThe on-call rota is in the wiki\n")
    assert "imported 2 entries" in runner.invoke(app, ["memory", "import", str(notes)]).stdout
    found = json.loads(
        runner.invoke(app, ["memory", "search", "when are deploys", "--json"]).stdout
    )
    assert found[0]["text"] == "Deploys happen on Tuesdays"
    stats = json.loads(runner.invoke(app, ["memory", "stats", "--json"]).stdout)
    assert stats["entries"] == 3
    assert "The cache lives" in runner.invoke(app, ["memory", "show", "1"]).stdout
    assert runner.invoke(app, ["memory", "show", "99"]).exit_code == 2


@pytest.fixture
def with_vectors(home):
    if not available():
        pytest.skip("the vectors extra is not installed")
    home.mkdir(parents=True, exist_ok=True)
    (home / "opensage.toml").write_text('[memory]\nembedder = "minilm"\n')


def test_recall_finds_a_paraphrase_through_vectors(home, tmp_path, with_vectors):
    run(
        home,
        tmp_path,
        [
            call("remember", content="My automobile broke down on the highway"),
            call("remember", content="Deploys happen on Tuesdays"),
            call("finish", answer="noted"),
        ],
    )
    second = run(
        home,
        tmp_path,
        [call("recall", query="car trouble", k=1), lambda m: call("finish", answer=m[-1].content)],
    )
    assert json.loads(second.answer)[0]["text"] == "My automobile broke down on the highway"


def test_memory_reindex_cli(home, tmp_path, with_vectors):
    runner = CliRunner()
    (home / "opensage.toml").write_text('[memory]\nembedder = "none"\n')
    runner.invoke(app, ["memory", "add", "My automobile broke down on the highway"])
    runner.invoke(app, ["memory", "add", "Deploys happen on Tuesdays"])
    refused = runner.invoke(app, ["memory", "reindex"])
    assert refused.exit_code == 2 and "opensage[vectors]" in refused.stderr
    (home / "opensage.toml").write_text('[memory]\nembedder = "minilm"\n')
    done = runner.invoke(app, ["memory", "reindex"])
    assert "embedded 2 entries with all-MiniLM-L6-v2-int8" in done.stdout
    stats = json.loads(runner.invoke(app, ["memory", "stats", "--json"]).stdout)
    assert stats["vectors"] == 2 and stats["embedder"] == "all-MiniLM-L6-v2-int8"
    found = json.loads(runner.invoke(app, ["memory", "search", "car trouble", "--json"]).stdout)
    assert found[0]["text"] == "My automobile broke down on the highway"


def test_asking_for_vectors_without_the_extra_is_a_clear_error(home, tmp_path, monkeypatch):
    home.mkdir(parents=True, exist_ok=True)
    (home / "opensage.toml").write_text('[memory]\nembedder = "minilm"\n')
    (tmp_path / "script.json").write_text("[]")
    monkeypatch.setattr("opensage.memory.embed.available", lambda: False)
    result = CliRunner().invoke(
        app, ["run", "--model", f"scripted:{tmp_path / 'script.json'}", "hi"]
    )
    assert result.exit_code == 2
    assert "needs the vectors extra: pip install 'opensage[vectors]'" in result.stderr


def test_memory_import_can_leave_the_embedding_for_reindex(home, tmp_path, with_vectors):
    runner = CliRunner()
    notes = tmp_path / "notes.txt"
    notes.write_text("My automobile broke down on the highway\nDeploys happen on Tuesdays\n")
    said = runner.invoke(app, ["memory", "import", str(notes), "--embed-later"]).stdout
    assert "imported 2 entries" in said and "opensage memory reindex" in said
    stats = json.loads(runner.invoke(app, ["memory", "stats", "--json"]).stdout)
    assert (stats["entries"], stats["vectors"]) == (2, 0)  # found by keywords meanwhile
    found = json.loads(runner.invoke(app, ["memory", "search", "deploys", "--json"]).stdout)
    assert found[0]["text"] == "Deploys happen on Tuesdays"
    assert "embedded 2 entries" in runner.invoke(app, ["memory", "reindex"]).stdout
    found = json.loads(runner.invoke(app, ["memory", "search", "car trouble", "--json"]).stdout)
    assert found[0]["text"] == "My automobile broke down on the highway"
