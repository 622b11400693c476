import json

from typer.testing import CliRunner

from opensage import Agent
from opensage.cli import app
from opensage.core.events import EventLog

from ..topology.conftest import call, team_model


def run(home, workdir, steps):
    result = Agent("root", "ROOT", model=team_model({"ROOT": steps}),
                   kits=["memory"]).run_sync("go", workdir=workdir)
    assert result.ok, result
    return result


def test_memory_written_in_one_run_is_recalled_in_the_next(home, tmp_path):
    first = run(home, tmp_path, [
        call("remember", content="The test suite needs PGHOST=127.0.0.1", kind="lesson",
             tags=["tests"]),
        call("remember", content="Always answer in British English", everywhere=True),
        call("finish", answer="noted")])
    (written, _) = EventLog.open(home / "events.db").events(first.run_id, ("memory_written",))
    assert written.data["kind"] == "lesson"
    second = run(home, tmp_path, [call("recall", query="what do the tests need?"),
                                  lambda m: call("finish", answer=m[-1].content)])
    hits = json.loads(second.answer)
    assert hits[0]["text"] == "The test suite needs PGHOST=127.0.0.1"
    assert hits[0]["kind"] == "lesson" and hits[0]["tags"] == ["tests"]
    # Another project sees only what was kept for every project.
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    third = run(home, elsewhere, [call("recall", query="tests English answer"),
                                  lambda m: call("finish", answer=m[-1].content)])
    assert [h["text"] for h in json.loads(third.answer)] == ["Always answer in British English"]


def test_memory_cli(home, tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["memory", "add", "The cache lives in /var/cache/app",
                               "--kind", "fact"]).exit_code == 0
    notes = tmp_path / "notes.txt"
    notes.write_text("Deploys happen on Tuesdays\nThe on-call rota is in the wiki\n")
    assert "imported 2 entries" in runner.invoke(app, ["memory", "import", str(notes)]).stdout
    found = json.loads(runner.invoke(app, ["memory", "search", "when are deploys",
                                           "--json"]).stdout)
    assert found[0]["text"] == "Deploys happen on Tuesdays"
    stats = json.loads(runner.invoke(app, ["memory", "stats", "--json"]).stdout)
    assert stats["entries"] == 3
    assert "The cache lives" in runner.invoke(app, ["memory", "show", "1"]).stdout
    assert runner.invoke(app, ["memory", "show", "99"]).exit_code == 2
