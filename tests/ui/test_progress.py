"""What `opensage run` shows while it runs: a live tree of the agents on a terminal (fed by the
event log's observers), plain lines elsewhere; untrusted names printed literally."""

from __future__ import annotations

import io
import json

from rich.console import Console
from typer.testing import CliRunner

from opensage import cli
from opensage.cli import app
from opensage.cli_progress import Progress
from opensage.core.events import Event, EventLog
from opensage.models import tool_call

from .scenario import AGENTS


def shown(progress: Progress, width: int = 220) -> str:
    screen = io.StringIO()
    Console(file=screen, width=width, force_terminal=False).print(progress.render())
    return screen.getvalue()


def test_the_tree_shows_every_agent_the_ensemble_and_its_choice(recorded):
    log = EventLog.open(recorded.home / "events.db")
    events = log.events(recorded.run_id)
    progress = Progress(Console(file=io.StringIO()))
    for event in events:
        progress.observe(event)
    text = shown(progress)
    lines = text.splitlines()
    assert recorded.run_id in lines[0] and "6 agents (0 running)" in lines[0]
    for name in AGENTS:
        assert any(name in line and "finished" in line for line in lines), name
    (ensemble,) = [line for line in lines if "ensemble of 3" in line]
    assert "writer" in ensemble and "select verify" in ensemble
    selected = json.loads(
        log.messages_by_event(recorded.run_id)[
            next(e.id for e in events if e.kind == "tool_result" and e.data["name"] == "ensemble")
        ].content
    )["selected"]
    assert f"selected member {selected}" in ensemble
    members = [line for line in lines if "writer[" in line]
    assert len(members) == 3 and all(
        line.index("writer[") > ensemble.index("ensemble") for line in members
    )  # drawn under the ensemble
    assert "researcher" in text and "retired" in next(
        line for line in lines if "researcher" in line
    )


def test_the_tree_follows_a_running_agent_and_its_current_step():
    progress = Progress(Console(file=io.StringIO()))
    run = "20260101-000000-aaaaaa"

    def feed(i, kind, parent, agent, **data):
        progress.observe(Event(i, run, parent, float(i), kind, agent, data))

    feed(1, "run_started", None, None, task="t")
    feed(2, "agent_started", 1, "root", name="root", model="m", tools=[])
    feed(3, "model_request", 2, "root", step=1, conv=2)
    assert "step 1  thinking" in shown(progress)
    feed(4, "model_response", 3, "root", step=1, usage={"total_tokens": 1200, "cost_usd": 0.0123})
    feed(5, "tool_call", 4, "root", name="run_agent", call_id="c1")
    feed(6, "agent_started", 5, "child\x1b[2J", name="child\x1b[2J", model="m2", tools=[])
    feed(7, "model_request", 6, "child\x1b[2J", step=1, conv=6)
    text = shown(progress)
    assert "step 1  running run_agent" in text and "1,200 tok" in text
    assert "child\\x1b[2J" in text and "\x1b" not in text  # a name cannot drive the terminal
    assert "2 agents (2 running)" in text and "1,200 tokens  $0.0123" in text
    progress.observe(Event(8, "another-run", None, 8.0, "agent_started", "x", {"name": "x"}))
    assert "2 agents" in shown(progress)  # another run's events are not this one's


def test_an_event_the_view_cannot_read_stops_the_view_not_the_run():
    progress = Progress(Console(file=io.StringIO()))
    run = "20260101-000000-bbbbbb"
    progress.observe(Event(1, run, None, 1.0, "run_started", None, {"task": "t"}))
    progress.observe(Event(2, run, 1, 2.0, "ensemble_started", "root", {"n": 2}))
    progress.observe(Event(3, run, 2, 3.0, "ensemble_member", "root", {"index": "x"}))
    assert progress.broken
    progress.observe(Event(4, run, 1, 4.0, "agent_started", "a", {"name": "a"}))  # ignored
    assert "starting" in shown(progress)


def test_a_run_that_is_not_on_a_terminal_prints_plain_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(cli.err, "_width", 300)
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            [tool_call("write_file", path="a.txt", content="x"), tool_call("finish", answer="done")]
        )
    )
    ran = CliRunner().invoke(
        app,
        [
            "run",
            "task\x1b]52;c;aGk=\x07",
            "--model",
            f"scripted:{script}",
            "--workdir",
            str(tmp_path),
        ],
    )
    assert ran.exit_code == 0, ran.output
    assert ran.stdout == "done\n"
    lines = ran.stderr.splitlines()
    assert lines[0].startswith("run ") and "task\\x1b]52;c;aGk=\\x07" in lines[0]
    assert lines[1].startswith("agent root started (scripted:")
    assert lines[2] == "root step 1 → write_file"
    assert lines[3] == "root step 2 → finish"
    assert lines[4].startswith("agent root finished (2 steps")
    assert "\x1b" not in ran.stderr
    quiet = CliRunner().invoke(
        app, ["run", "task", "--model", f"scripted:{script}", "--workdir", str(tmp_path), "--json"]
    )
    assert quiet.stderr == ""  # --json: one object, nothing else


def test_the_logs_observers_see_each_event_whole(log):
    seen: list[Event] = []
    log.observers.append(seen.append)
    start = log.emit("r1", "run_started", {"task": "t"})
    child = log.emit("r1", "agent_started", {"name": "a"}, parent=start, agent="a")
    assert [(e.id, e.parent, e.kind, e.agent, e.run_id) for e in seen] == [
        (start, None, "run_started", None, "r1"),
        (child, start, "agent_started", "a", "r1"),
    ]
    assert seen[1].data == {"name": "a"} and seen[1].ts >= seen[0].ts
    log.commit()
    assert [e.ts for e in log.events("r1")] == [e.ts for e in seen]  # as recorded
