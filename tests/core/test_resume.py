"""A run whose process is killed with SIGKILL can be resumed from its event log."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from opensage import Agent, tool
from opensage.core.events import EventLog
from opensage.core.loop import INTERRUPTED, RunResult
from opensage.errors import ConfigError
from opensage.models import ScriptedModel, tool_call
from opensage.models.base import Message
from opensage.models.scripted import FunctionModel

from ..models.fake_server import FakeServer


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
    script.write_text(
        json.dumps(
            [
                tool_call("write_file", path="a.txt", content="one"),
                {"delay_s": 1.5, **tool_call("write_file", path="b.txt", content="two")},
                tool_call("finish", answer="both written"),
            ]
        )
    )
    db = home / "events.db"
    cmd = [
        sys.executable,
        "-m",
        "opensage.cli",
        "run",
        "write files",
        "--model",
        f"scripted:{script}",
        "--workdir",
        str(work),
        "--json",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run_id = kill_when(proc, db, "model_request", lambda e: e.data["step"] == 2)
    before = snapshot(db, run_id)
    assert EventLog(db).run(run_id).status == "interrupted"
    assert (work / "a.txt").read_text() == "one" and not (work / "b.txt").exists()

    resumed = subprocess.run(
        [sys.executable, "-m", "opensage.cli", "runs", "resume", run_id[:12], "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert resumed.returncode == 0, resumed.stderr
    result = json.loads(resumed.stdout)
    assert (result["answer"], result["stop_reason"], result["run_id"]) == (
        "both written",
        "finished",
        run_id,
    )
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


@tool
async def block() -> str:
    """Wait until cancelled."""
    await asyncio.Event().wait()
    return "never"


def cancelled_run(home: Path, agent: Agent) -> str:
    """Run `agent` until its first tool call starts, then cancel it as Ctrl-C does: the run is
    left resumable. Returns its id."""

    async def go():
        calling = asyncio.Event()
        task = asyncio.create_task(
            agent.run("go", on_event=lambda kind, _a, _d: kind == "tool_call" and calling.set())
        )
        await calling.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(go())
    (summary,) = EventLog.open(home / "events.db").runs()
    assert (summary.status, summary.stop_reason) == ("finished", "cancelled")
    return summary.run_id


def chat(content=None, tool_calls=None):
    return {
        "id": "c",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": content, "tool_calls": tool_calls},
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1},
    }


BLOCK = [{"id": "c1", "type": "function", "function": {"name": "block", "arguments": "{}"}}]


@pytest.fixture
def servers():
    a, b = FakeServer(), FakeServer()
    a.url, b.url = a.start() + "/v1", b.start() + "/v1"
    yield a, b
    a.stop()
    b.stop()


def test_a_resumed_run_talks_to_the_endpoint_it_was_recorded_with(home, servers, monkeypatch):
    a, b = servers
    monkeypatch.setenv("OPENAI_API_KEY", "sk-the-users-key")
    a.reply(chat(tool_calls=BLOCK))
    run_id = cancelled_run(
        home, Agent("w", model="openai:gpt-4o-mini", base_url=a.url, tools=[block])
    )
    monkeypatch.setenv("OPENAI_BASE_URL", b.url)  # what the environment says at resume time
    a.reply(chat("done"))
    start = EventLog.open(home / "events.db").events(run_id, ("run_started",))[0]
    result = Agent.from_record(start.data).resume_sync(run_id)
    assert (result.answer, len(a.requests), len(b.requests)) == ("done", 2, 0)
    resumed = a.requests[1]
    assert resumed.body["messages"][-1]["content"] == INTERRUPTED
    assert resumed.headers["authorization"] == "Bearer sk-the-users-key"
    assert start.data["agent"]["base_url"] == a.url
    stored = b"".join(p.read_bytes() for p in home.glob("events.db*"))
    assert b"sk-the-users-key" not in stored  # the endpoint is recorded, never the key


def test_a_run_made_with_a_profile_resumes_with_its_endpoint_and_its_key(
    home, servers, monkeypatch
):
    a, b = servers
    home.mkdir(parents=True, exist_ok=True)
    (home / "opensage.toml").write_text(
        f'[models.fast]\nspec = "openai:gpt-4o-mini"\n'
        f'base_url = "{a.url}"\napi_key_env = "FAST_KEY"\n'
    )
    monkeypatch.setenv("FAST_KEY", "sk-for-fast")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-for-openai-only")
    monkeypatch.setenv("OPENAI_BASE_URL", b.url)
    a.reply(chat(tool_calls=BLOCK))
    run_id = cancelled_run(home, Agent("w", model="fast", tools=[block]))
    a.reply(chat("done"))
    start = EventLog.open(home / "events.db").events(run_id, ("run_started",))[0]
    assert (start.data["agent"]["profile"], start.data["agent"]["model"]) == (
        "fast",
        "openai:gpt-4o-mini",
    )
    result = Agent.from_record(start.data).resume_sync(run_id)
    assert (result.answer, len(a.requests), len(b.requests)) == ("done", 2, 0)
    assert a.requests[1].headers["authorization"] == "Bearer sk-for-fast"


def test_a_run_resumed_with_another_model_uses_that_models_endpoint(home, servers, monkeypatch):
    a, b = servers
    a.reply(chat(tool_calls=BLOCK))
    run_id = cancelled_run(
        home, Agent("w", model="openai:gpt-4o-mini", base_url=a.url, tools=[block])
    )
    monkeypatch.setenv("OPENAI_BASE_URL", b.url)
    b.reply(chat("done elsewhere"))
    start = EventLog.open(home / "events.db").events(run_id, ("run_started",))[0]
    agent = Agent.from_record(start.data)
    agent.model = "openai:gpt-4o"  # what `runs resume --model` does
    assert agent.resume_sync(run_id).answer == "done elsewhere"
    assert (len(a.requests), len(b.requests)) == (1, 1)


def test_the_recorded_endpoint_has_no_password(home, servers):
    a, _ = servers
    a.reply(chat("hi"))
    with_password = a.url.replace("http://", "http://me:hunter2@")
    result = Agent("w", model="openai:gpt-4o-mini", base_url=with_password).run_sync("go")
    start = EventLog.open(home / "events.db").events(result.run_id, ("run_started",))[0]
    assert start.data["agent"]["base_url"] == a.url


@pytest.mark.parametrize("meet", ["before_resuming", "before_claiming"])
def test_two_resumes_of_one_run_at_once_one_proceeds_and_the_other_is_told_why(
    home, meet, monkeypatch
):
    run_id = cancelled_run(
        home, Agent("a", model=ScriptedModel([tool_call("block")]), tools=[block])
    )
    asked = []

    def reply(messages, tools):
        asked.append(threading.get_ident())
        return {"delay_s": 0.5, **tool_call("finish", answer="resumed")}

    model = FunctionModel(reply)
    both_ready = threading.Barrier(2, timeout=10)
    if meet == "before_claiming":  # both got past the first check: only the claim decides
        claim = EventLog.claim

        def claim_together(log, *args, **kwargs):
            both_ready.wait()
            return claim(log, *args, **kwargs)

        monkeypatch.setattr(EventLog, "claim", claim_together)
    outcomes: list[object] = []

    def resume():
        if meet == "before_resuming":
            both_ready.wait()
        try:
            outcomes.append(Agent("a", model=model).resume_sync(run_id))
        except ConfigError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=resume) for _ in range(2)]  # a connection each
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    (result,) = [o for o in outcomes if isinstance(o, RunResult)]
    (refused,) = [o for o in outcomes if isinstance(o, ConfigError)]
    assert result.answer == "resumed"
    assert str(refused) == (
        f"run {run_id} is being resumed by process {os.getpid()}; wait for "
        "it to end, or stop that process, before resuming"
    )
    assert len(asked) == 1  # the model was called by one resume only
    kinds = [e.kind for e in EventLog(home / "events.db").events(run_id)]
    assert kinds.count("run_resumed") == 1 and kinds[-1] == "run_finished"


def test_a_run_whose_last_reply_was_empty_resumes_by_asking_again(home):
    """An empty reply is never the answer, on resume either."""
    run_id = cancelled_run(
        home, Agent("a", model=ScriptedModel([tool_call("block")]), tools=[block])
    )
    log = EventLog.open(home / "events.db")
    conv = log.events(run_id, ("agent_started",))[0].id
    stored = log.conversation(run_id, conv)
    log.add_message(
        run_id,
        conv,
        len(stored),
        Message("tool", "ok", tool_call_id=stored[-1].tool_calls[0].id, name="block"),
        None,
    )
    log.add_message(run_id, conv, len(stored) + 1, Message("assistant", ""), None)
    log.commit()
    model = ScriptedModel([tool_call("block"), "the answer"])
    result = Agent("a", model=model).resume_sync(run_id)
    assert (result.stop_reason, result.answer) == ("finished", "the answer")
    assert model.requests[0][-1].content == "Your reply was empty. Answer the task, or call a tool."


def test_a_run_whose_log_holds_a_call_without_a_name_can_be_resumed(home):
    """Logs written before replies were checked may hold a null tool name."""
    run_id = cancelled_run(
        home, Agent("a", model=ScriptedModel([tool_call("block")]), tools=[block])
    )
    log = EventLog.open(home / "events.db")
    conv = log.events(run_id, ("agent_started",))[0].id
    n = len(log.conversation(run_id, conv))
    call = json.dumps(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c9", "name": None, "arguments": None}],
        }
    )
    log._db.execute("INSERT INTO messages VALUES (?, ?, ?, NULL, ?)", (run_id, conv, n, call))
    log.commit()
    model = ScriptedModel([tool_call("block"), "resumed"])
    result = Agent("a", model=model).resume_sync(run_id)
    assert (result.stop_reason, result.answer) == ("finished", "resumed")
    told = model.requests[0][-1]
    assert (told.tool_call_id, told.content) == ("c9", INTERRUPTED)
