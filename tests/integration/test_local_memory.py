"""The real local model writing memory in one run and reading it in the next, over HTTP."""

import json

import pytest

from opensage import Agent
from opensage.core.events import EventLog
from opensage.models.local import LocalModel

from .test_local_team import Steered

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_what_the_local_model_remembers_it_recalls_in_the_next_run(home, tmp_path):
    first = Agent("root", "ROOT", model=Steered(LocalModel(), ["remember"]), kits=["memory"],
                  max_steps=2).run_sync(
        "Remember this fact: the deploy key is stored in the vault at secret/deploy.",
        workdir=tmp_path)
    log = EventLog.open(home / "events.db")
    (written,) = log.events(first.run_id, ("memory_written",))
    second = Agent("root", "ROOT", model=Steered(LocalModel(), ["recall"]), kits=["memory"],
                   max_steps=2).run_sync("Where is the deploy key stored? Recall it.",
                                         workdir=tmp_path)
    (result, *_) = log.events(second.run_id, ("tool_result",))
    assert result.data["name"] == "recall" and result.data["ok"], second.message
    recalled = json.loads(log.messages_by_event(second.run_id)[result.id].content)
    # Whatever words the model chose, the entry is found (by meaning, if not by keywords).
    assert written.data["id"] in [entry["id"] for entry in recalled]
