"""The real local model writing memory in one run and reading it in the next, over HTTP."""

import asyncio
import json

import pytest

from opensage import Agent
from opensage.core.events import EventLog
from opensage.models.local import LocalModel

from .test_local_team import Steered

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def run(plan, task, workdir):
    async def go():
        model = Steered(LocalModel("smollm2"), plan)
        try:
            return await Agent("root", "ROOT", model=model, kits=["memory"], max_steps=2).run(
                task, workdir=workdir
            )
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
