"""A run whose process is killed with SIGKILL can be resumed from its event log."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from opensage import Agent, tool
from opensage.core.events import EventLog
from opensage.core.loop import INTERRUPTED
from opensage.models import ScriptedModel, tool_call
from opensage.models.base import ConfigError


def wait_for_event(db: Path, kind: str, predicate=lambda e: True, timeout_s: float = 30):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if db.exists():
            log = EventLog(db)
            runs = log.runs()
            for r in runs:
                hits = [e for e in log.events(r.run_id, (kind,)) if predicate(e)]
                if hits:
                    log.close()
                    return r.run_id
            log.close()
        time.sleep(0.05)
    raise AssertionError(f"no {kind} event within {timeout_s} s")


def kill_when(proc: subprocess.Popen, db: Path, kind: str, predicate=lambda e: True) -> str:
    try:
        run_id = wait_for_event(db, kind, predicate)
    except AssertionError:
        proc.kill()
        raise AssertionError(proc.communicate()[1]) from None
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return run_id


def snapshot(db: Path, run_id: str) -> list[tuple]:
    log = EventLog(db)
    rows = [(e.id, e.kind, e.data) for e in log.events(run_id)]
    log.close()
    return rows


@pytest.mark.slow
def test_cli_run_killed_while_waiting_on_the_model_resumes(home, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    script = tmp_path / "script.json"
    script.write_text(json.dumps([
        tool_call("write_file", path="a.txt", content="one"),
        {"delay_s": 1.5, **tool_call("write_file", path="b.txt", content="two")},
        tool_call("finish", answer="both written"),
    ]))
    db = home / "events.db"
    cmd = [sys.executable, "-m", "opensage.cli", "run", "write files", "--model",
           f"scripted:{script}", "--workdir", str(work), "--json"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_id = kill_when(proc, db, "model_request", lambda e: e.data["step"] == 2)
    before = snapshot(db, run_id)
    assert EventLog(db).run(run_id).status == "interrupted"
    assert (work / "a.txt").read_text() == "one" and not (work / "b.txt").exists()

    resumed = subprocess.run([sys.executable, "-m", "opensage.cli", "runs", "resume",
                              run_id[:12], "--json"], capture_output=True, text=True, timeout=60)
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert (result["answer"], result["stop_reason"], result["run_id"]) == (
        "both written", "finished", run_id)
    assert result["steps"] == 3  # step 1 from before the kill counts, and is not redone
    assert (work / "b.txt").read_text() == "two"

    after = snapshot(db, run_id)
    assert after[: len(before)] == before  # nothing recorded before the kill was lost
    writes = [d for _, k, d in after if k == "tool_result" and d["name"] == "write_file"]
    assert len(writes) == 2  # a.txt was written once, b.txt once
    log = EventLog(db)
    conv = log.events(run_id, ("agent_started",))[0].id
    roles = [m.role for m in log.conversation(run_id, conv)]
    assert roles == ["system", "user"] + ["assistant", "tool"] * 3
    assert log.run(run_id).status == "finished"


@pytest.mark.slow
def test_run_killed_inside_a_tool_resumes_and_tells_the_model(home, tmp_path):
    steps = [tool_call("deploy", target="prod"), tool_call("finish", answer="checked first")]
    program = textwrap.dedent(f"""
        import asyncio
        from opensage import Agent, tool
        from opensage.models import ScriptedModel

        @tool
        async def deploy(target: str) -> str:
            '''Deploy.'''
            await asyncio.sleep(60)
            return "deployed"

        Agent("ops", model=ScriptedModel({steps!r}), tools=[deploy]).run_sync("deploy it")
    """)
    db = home / "events.db"
    proc = subprocess.Popen([sys.executable, "-c", program], stderr=subprocess.PIPE, text=True)
    run_id = kill_when(proc, db, "tool_call")

    @tool
    def deploy(target: str) -> str:
        """Deploy."""
        raise AssertionError("a resumed run must not re-run an interrupted call on its own")

    model = ScriptedModel(steps)
    result = Agent("ops", model=model, tools=[deploy]).resume_sync(run_id)
    assert (result.answer, result.run_id, result.steps) == ("checked first", run_id, 2)
    told = model.requests[0][-1]  # the one request made after resuming
    assert told.role == "tool" and told.is_error and told.content == INTERRUPTED


def test_only_an_interrupted_run_can_be_resumed(home):
    result = Agent("a", model=ScriptedModel(["done"])).run_sync("x")
    with pytest.raises(ConfigError, match=r"is finished \(finished\); only an interrupted or"):
        Agent("a", model=ScriptedModel([])).resume_sync(result.run_id)
    with pytest.raises(ConfigError, match="no run 'nope'"):
        Agent("a", model=ScriptedModel([])).resume_sync("nope")


def test_a_cancelled_run_can_be_resumed(home):
    steps = [{"delay_s": 5, "text": "never seen"}, tool_call("finish", answer="resumed")]

    async def cancel_it():
        task = asyncio.create_task(Agent("a", model=ScriptedModel(steps)).run("x"))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_it())
    log = EventLog.open(home / "events.db")
    (summary,) = log.runs()
    assert (summary.status, summary.stop_reason) == ("finished", "cancelled")
    model = ScriptedModel(steps[1:])
    result = Agent("a", model=model).resume_sync(summary.run_id)
    assert (result.answer, result.stop_reason) == ("resumed", "finished")
    assert log.run(summary.run_id).stop_reason == "finished"
