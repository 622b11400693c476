"""The real local model creating a sub-agent and running it, over HTTP."""

import asyncio

import pytest

from opensage import Agent, ModelSettings
from opensage.core.events import EventLog
from opensage.models.local import LocalModel

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class Steered:
    """The local model, told which tool the root agent must call at each of its first steps
    (forced tool choice: a 135M model would not choose on its own); deterministic at
    temperature 0."""

    def __init__(self, inner, plan):
        self.inner, self.plan = inner, plan

    @property
    def name(self):
        return self.inner.name

    async def request(self, messages, tools, settings=None):
        step = sum(m.role == "assistant" for m in messages)
        choice = (
            self.plan[step] if messages[0].content == "ROOT" and step < len(self.plan) else "auto"
        )
        return await self.inner.request(
            messages, tools, ModelSettings(tool_choice=choice, temperature=0)
        )

    async def aclose(self):
        await self.inner.aclose()


def test_the_local_model_creates_and_runs_a_sub_agent(home, tmp_path):
    async def go():
        model = Steered(LocalModel("smollm2"), ["create_agent", "run_agent", "run_agent"])
        try:
            return await Agent("root", "ROOT", model=model, kits=["topology"], max_steps=5).run(
                "Create an agent named helper that answers questions in one word, then run "
                "the agent helper on the task: What color is the sky?",
                workdir=tmp_path,
            )
        finally:
            await model.aclose()  # a model passed in is the caller's to close

    result = asyncio.run(go())
    assert result.stop_reason != "model_error", result.message
    log = EventLog.open(home / "events.db")
    (created, *_) = log.events(result.run_id, ("agent_created",))
    name = created.data["name"]
    runs = [e for e in log.events(result.run_id, ("agent_started",)) if e.data["name"] == name]
    assert runs, f"the created agent {name!r} never ran"
    assert runs[0].data["model"] == "local:smollm2"
    calls = {e.id: e.data["name"] for e in log.events(result.run_id, ("tool_call",))}
    assert calls[runs[0].parent] == "run_agent"  # started by the root's call, under it
    answers = [
        e.data["answer"]
        for e in log.events(result.run_id, ("agent_finished",))
        if e.agent == name and e.data["stop_reason"] == "finished"
    ]
    assert answers and answers[0].strip()  # the sub-agent answered through the local server
