"""The real local model writing memory in one run and reading it in the next, over HTTP."""

import asyncio
import json

import pytest

from opensage import Agent, ModelSettings
from opensage.core.events import EventLog
from opensage.models.local import LocalModel

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def run(plan, task, workdir):
    """One run whose first calls are forced (a 135M model would not choose them), at
    temperature 0."""

    async def go():
        model = LocalModel("smollm2")
        agent = Agent(
            "root",
            "ROOT",
            model=model,
            kits=["memory"],
            max_steps=2,
            opening=plan,
            settings=ModelSettings(temperature=0),
        )
        try:
            return await agent.run(task, workdir=workdir)
        finally:
            await model.aclose()  # a model passed in is the caller's to close

    return asyncio.run(go())


def test_what_the_local_model_remembers_it_recalls_in_the_next_run(home, tmp_path):
    first = run(
        ["remember"],
        "Remember this fact: the deploy key is stored in the vault at secret/deploy.",
        tmp_path,
    )
    log = EventLog.open(home / "events.db")
    (written,) = log.events(first.run_id, ("memory_written",))
    second = run(["recall"], "Where is the deploy key stored? Recall it.", tmp_path)
    (result, *_) = log.events(second.run_id, ("tool_result",))
    assert result.data["name"] == "recall" and result.data["ok"], second.message
    recalled = json.loads(log.messages_by_event(second.run_id)[result.id].content)
    # Whatever words the model chose, the entry is found (by meaning, if not by keywords).
    assert written.data["id"] in [entry["id"] for entry in recalled]
