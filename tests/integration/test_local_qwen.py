"""The default local model, Qwen2.5-Coder-0.5B, really calling tools: through the CLI (a tool
call written as text, found, run, and its result used in the answer), and running a sub-agent
on the same server. Slow: a step takes seconds on two shared cores."""

import asyncio
import json
import subprocess
import sys

import pytest

from opensage import Agent
from opensage.core.events import EventLog
from opensage.models.base import Message, ModelResponse, ToolCall, Usage
from opensage.models.local import LocalModel, LocalServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_qwen_calls_a_tool_and_answers_with_its_result_through_the_cli(home, tmp_path):
    (tmp_path / "data.csv").write_text("id,name\n" + "".join(f"{i},n{i}\n" for i in range(6)))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "opensage.cli",
            "run",
            "Run the command `wc -l data.csv` and answer with the number of lines it prints.",
            "--model",
            "local:qwen-0.5b",
            "--kit",
            "shell",
            "--max-steps",
            "4",
            "--workdir",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode in (0, 1), out.stderr
    result = json.loads(out.stdout)
    log = EventLog.open(home / "events.db")
    calls = [(e.data["name"], e.data["ok"]) for e in log.events(result["run_id"], ("tool_result",))]
    assert ("run_command", True) in calls, calls  # written as text, found, run
    assert result["stop_reason"] == "finished", result
    assert "7" in result["answer"], result  # the command's answer, not a guess
    assert result["usage"]["cost_usd"] == 0


class Planned:
    """The root's topology calls written out (a 0.5B model, even forced to call run_agent,
    names the tool rather than the agent it created), its later steps by the real model: the
    sub-agent, created on local:qwen-0.5b, runs on its own."""

    def __init__(self, inner, plan):
        self.inner, self.plan = inner, plan

    @property
    def name(self):
        return self.inner.name

    async def request(self, messages, tools, settings=None):
        step = sum(m.role == "assistant" for m in messages)
        if messages[0].content == "ROOT" and step < len(self.plan):
            name, args = self.plan[step]
            call = ToolCall(f"plan_{step}", name, json.dumps(args))
            return ModelResponse(Message("assistant", "", tool_calls=(call,)), Usage(requests=1))
        return await self.inner.request(messages, tools, settings)

    async def aclose(self):
        await self.inner.aclose()


def test_a_sub_agent_runs_on_qwen_sharing_the_roots_server(home, tmp_path, monkeypatch):
    started = []
    real_popen = subprocess.Popen

    def popen(cmd, *args, **kwargs):
        if "llama_cpp.server" in cmd:
            started.append(cmd)
        return real_popen(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", popen)
    plan = [
        (
            "create_agent",
            {
                "name": "helper",
                "tools": [],
                "model": "local:qwen-0.5b",
                "instructions": "Answer the question in one word.",
            },
        ),
        ("run_agent", {"name": "helper", "task": "What is the capital of France?"}),
    ]

    async def go():
        model = Planned(LocalModel("qwen-0.5b"), plan)
        try:
            return await Agent("root", "ROOT", model=model, kits=["topology"], max_steps=6).run(
                "Ask a helper agent for the capital of France, and answer with it.",
                workdir=tmp_path,
            )
        finally:
            await model.aclose()

    result = asyncio.run(go())
    assert result.stop_reason == "finished", result.message
    log = EventLog.open(home / "events.db")
    runs = [e for e in log.events(result.run_id, ("agent_started",)) if e.data["name"] == "helper"]
    assert runs and runs[0].data["model"] == "local:qwen-0.5b"
    answers = [
        e.data["answer"]
        for e in log.events(result.run_id, ("agent_finished",))
        if e.agent == "helper" and e.data["stop_reason"] == "finished"
    ]
    assert answers and "paris" in answers[0].lower()  # the sub-agent answered, on qwen
    assert "paris" in result.answer.lower()  # and the root, on qwen too, passed it on
    assert len(started) == 1  # root and sub-agent shared one server
    assert all(s.users == 0 for s in LocalServer._shared.values())  # and both let it go
