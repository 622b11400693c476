"""Every model call of a run is charged to its budget and recorded, those outside an agent's
conversation (side requests) too, so that a run killed after one and resumed has spent exactly
what a run that was not killed has."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from opensage import Agent, Kit, Limits, RunContext, Tool
from opensage.core.events import Event, EventLog
from opensage.models import ScriptedModel, tool_call
from opensage.models.base import Message
from opensage.models.scripted import FunctionModel

from . import side_calls
from .test_resume import kill_when

REPO = Path(__file__).resolve().parents[2]
# What is visible in the log once each kind of side call is behind a killed run.
AFTER = {
    "compaction": ("context_compacted", lambda e: True),
    "ensemble_judge": ("model_response", lambda e: e.data.get("purpose") == "ensemble_judge"),
    "memory_agent": ("agent_finished", lambda e: e.agent == "memory"),
}


def spent(log: EventLog, run_id: str) -> tuple[int, int, float]:
    """What a run's charges add up to (steps, tokens, cost), having checked that they are its
    model responses, one for one."""
    charges = log.events(run_id, ("budget_charge",))
    responses = {e.id: e for e in log.events(run_id, ("model_response",))}
    assert sorted(c.parent for c in charges) == sorted(responses)  # one charge per response
    for charge in charges:
        usage = responses[charge.parent].data["usage"]
        assert (charge.data["tokens"], charge.data["cost_usd"]) == pytest.approx(
            (usage["total_tokens"], usage["cost_usd"])
        )
    return (
        sum(c.data["steps"] for c in charges),
        sum(c.data["tokens"] for c in charges),
        round(sum(c.data["cost_usd"] for c in charges), 9),
    )


def use_home(home: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make `home` the OpenSage home, set up for `kind`; returns a prepared work dir."""
    home.mkdir(parents=True)
    (home / "opensage.toml").write_text(side_calls.config(kind))
    monkeypatch.setenv("OPENSAGE_HOME", str(home))
    work = home.parent / "work"
    work.mkdir()
    side_calls.prepare(kind, work)
    return work


def side_requests(log: EventLog, run_id: str, purpose: str) -> list[Event]:
    return [e for e in log.events(run_id, ("model_request",)) if e.data.get("purpose") == purpose]


@pytest.mark.parametrize("kind", side_calls.KINDS)
def test_each_model_call_is_charged_and_counted_in_the_run(kind, tmp_path, monkeypatch):
    work = use_home(tmp_path / "home", kind, monkeypatch)
    result = side_calls.agent(kind).run_sync("go", workdir=work)
    assert result.ok, result
    log = EventLog.open(tmp_path / "home" / "events.db")
    steps, tokens, cost = spent(log, result.run_id)
    # The run's usage counts every call, and so does its recorded end.
    assert (result.usage.requests, result.usage.total_tokens) == (steps, tokens)
    assert result.usage.cost_usd == pytest.approx(cost) and cost > 0
    (end,) = log.events(result.run_id, ("run_finished",))
    assert end.data["usage"] == result.usage.to_dict()
    events = {e.id: e for e in log.events(result.run_id)}
    if kind == "memory_agent":  # a sub-agent: its steps are its own conversation's
        (started,) = [
            e for e in events.values() if e.kind == "agent_started" and e.data["name"] == "memory"
        ]
        assert events[started.parent].data["name"] == "ask_memory"
        return
    requests = side_requests(log, result.run_id, kind)
    assert requests, f"no {kind} request was recorded"
    parents = {events[r.parent].kind for r in requests}
    # Each under what asked for it: the conversation it folds, the ensemble it judges, the
    # run it curates.
    assert (
        parents
        == {
            "compaction": {"agent_started"},
            "ensemble_judge": {"ensemble_started"},
            "curation": {"run_started"},
        }[kind]
    )
    assert all(r.data["messages"][0]["role"] == "system" for r in requests)  # what was sent


def run_to_be_killed(kind: str, work: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.core.side_calls", kind, str(work), "60"],
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def cut_before_its_end(db: Path, run_id: str) -> None:
    """The log of a run killed after its kits ended, before its end was recorded."""
    log = EventLog(db)
    log._db.execute("DELETE FROM events WHERE run_id = ? AND kind = 'run_finished'", (run_id,))
    log.commit()
    log.close()


@pytest.mark.slow
@pytest.mark.parametrize("kind", side_calls.KINDS)
def test_a_run_killed_after_a_side_call_resumes_having_spent_what_it_did(
    kind, tmp_path, monkeypatch
):
    work = use_home(tmp_path / "whole" / "home", kind, monkeypatch)
    whole = side_calls.agent(kind).run_sync("go", workdir=work)
    whole_log = EventLog.open(tmp_path / "whole" / "home" / "events.db")

    work = use_home(tmp_path / "killed" / "home", kind, monkeypatch)
    db = tmp_path / "killed" / "home" / "events.db"
    proc = run_to_be_killed(kind, work)
    if kind in AFTER:
        run_id = kill_when(proc, db, *AFTER[kind])
    else:  # curation is the run's last work: the process ends, its end is then cut
        assert proc.wait(60) == 0, proc.stderr.read() if proc.stderr else ""
        (run_id,) = [r.run_id for r in EventLog(db).runs()]
        cut_before_its_end(db, run_id)
    assert EventLog(db).run(run_id).status == "interrupted"
    resumed = side_calls.agent(kind).resume_sync(run_id)

    log = EventLog.open(db)
    assert (resumed.stop_reason, resumed.answer) == (whole.stop_reason, whole.answer)
    assert spent(log, run_id) == spent(whole_log, whole.run_id)
    assert resumed.usage.to_dict() == pytest.approx(whole.usage.to_dict())
    assert log.events(run_id, ("run_finished",))[-1].data["usage"] == pytest.approx(
        whole.usage.to_dict()
    )


def reader(**limits) -> tuple[Agent, FunctionModel]:
    agent = side_calls.agent("compaction")
    agent.limits = agent.limits.merged(Limits(**limits))
    assert isinstance(agent.model, FunctionModel)
    return agent, agent.model


def test_a_summary_that_spends_the_last_of_the_budget_is_the_last_request(tmp_path):
    side_calls.prepare("compaction", tmp_path)
    unlimited, model = reader()
    unlimited.run_sync("go", workdir=tmp_path)
    first = next(i for i, r in enumerate(model.requests) if r[0].content == side_calls.SUMMARIZER)
    limited, model = reader(max_steps=first + 1)  # room for the steps before it, and it
    result = limited.run_sync("go", workdir=tmp_path)
    assert result.stop_reason == "max_steps"
    asked = model.requests
    assert len(asked) == first + 1 and asked[-1][0].content == side_calls.SUMMARIZER


def test_a_summary_past_the_time_limit_is_cut_off_and_recorded(tmp_path, home):
    side_calls.prepare("compaction", tmp_path)
    agent, model = reader(max_seconds=3)
    slow = model.fn

    def reply(messages, tools):
        step = slow(messages, tools)
        return {**step, "delay_s": 60} if messages[0].content == side_calls.SUMMARIZER else step

    model.fn = reply
    result = asyncio.run(asyncio.wait_for(agent.run("go", workdir=tmp_path), 60))
    assert result.stop_reason == "max_time"
    log = EventLog.open(home / "events.db")
    (error,) = log.events(result.run_id, ("model_error",))
    (request,) = side_requests(log, result.run_id, "compaction")
    assert (error.parent, error.data["error"]) == (request.id, "TimeoutError")


class Asking(Kit):
    """A kit whose tool asks the model something on the side."""

    name = "asking"
    acts_on_workdir = False

    def tools(self, ctx: RunContext) -> list[Tool]:
        async def second_opinion(question: str, *, ctx: RunContext) -> str:
            """Ask for a second opinion.

            Args:
                question: the question.
            """
            reply = await ctx.side_request([Message("user", question)], "second_opinion")
            ctx.emit("opinion_given", {"chars": len(reply.message.content)})
            return reply.message.content

        return [Tool(second_opinion)]


def test_a_tools_side_request_is_recorded_under_its_call_as_its_agent(home, tmp_path):
    model = ScriptedModel(
        [
            tool_call("second_opinion", question="sure?"),
            "yes, sure",
            tool_call("finish", answer="sure"),
        ],
        price=(1.0, 1.0),
    )
    result = Agent("asker", model=model, kits=[Asking()]).run_sync("go", workdir=tmp_path)
    assert (result.answer, result.usage.requests) == ("sure", 3)
    log = EventLog.open(home / "events.db")
    events = {e.id: e for e in log.events(result.run_id)}
    (request,) = side_requests(log, result.run_id, "second_opinion")
    (opinion,) = [e for e in events.values() if e.kind == "opinion_given"]
    call = events[request.parent]
    assert call.kind == "tool_call" and call.data["name"] == "second_opinion"
    assert opinion.parent == call.id and {request.agent, opinion.agent} == {"asker"}
    assert request.data["messages"] == [{"role": "user", "content": "sure?"}]
    (response,) = [e for e in events.values() if e.parent == request.id]
    assert response.data["reply"] == "yes, sure"
    assert [e.kind for e in events.values() if e.parent == response.id] == ["budget_charge"]
