"""A run's context for tests that use a kit's tools without running an agent."""

import tempfile
from pathlib import Path

from opensage.config import Config
from opensage.core.budget import Budget
from opensage.core.context import RunContext, RunShared
from opensage.core.events import EventLog
from opensage.models import ScriptedModel
from opensage.sandbox import open_sandbox


def run_context(workdir: Path, home: Path) -> RunContext:
    """A context for a run in `workdir` with OpenSage's home `home`; its event log is elsewhere
    (the tests look at the home's and the work dir's files)."""
    log = EventLog(Path(tempfile.mkdtemp(prefix="opensage-test-")) / "events.db")
    return RunContext(
        config=Config(home=home),
        run_id="test",
        workdir=workdir,
        log=log,
        model=ScriptedModel([]),
        root_budget=Budget(),
        shared=RunShared(open_sandbox),
    )
