"""The real local model creating a sub-agent and running it, over HTTP."""

import asyncio

import pytest

from opensage import Agent, ModelSettings
from opensage.core.events import EventLog
from opensage.models.local import LocalModel

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_the_local_model_creates_and_runs_a_sub_agent(home, tmp_path):
    async def go():
        model = LocalModel("smollm2")
        # The root's first calls are forced (a 135M model would not choose on its own); at
        # temperature 0, its sub-agents' too, the run is deterministic.
        agent = Agent(
            "root",
            "ROOT",
            model=model,
            kits=["topology"],
            max_steps=5,
            opening=["create_agent", "run_agent", "run_agent"],
            settings=ModelSettings(temperature=0),
        )
        try:
            return await agent.run(
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
