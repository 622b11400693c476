"""Lessons carried from task to task of one benchmark run.

What users expect of a benchmark is a measurement they can repeat and compare: a run must not
score better because an earlier run, or their own day-to-day work, taught the agent the answers.
So the kit agents' long-term memory is the benchmark run's own:

- it is a memory store in the run's shared folder (`AgentTask.shared`, in the output dir), so
  running the same command again to resume keeps what was learned before the interruption, and
  a new output dir starts with nothing;
- it is scoped to the repeat (`--repeat K`: attempt k of a task only sees lessons of attempt k
  of the others, so no attempt learns from another attempt at the same task);
- the user's own memory (`opensage memory`, under OPENSAGE_HOME) is neither read nor written.

Given no shared folder (an agent driven from Python without one), the lessons live in a
temporary folder of the agent object, for as long as it lives.

At the start of a task, `recall` finds the lessons that match its prompt (the agent puts them
in what the model is told); during the task the model has the memory kit's tools
(remember, recall, ask_memory) over the same store and scope; at its end the memory kit's
consolidation adds a lesson for each failure the run then got past.
"""

from __future__ import annotations

import shutil
import tempfile
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path

from opensage.bench.agents import AgentTask
from opensage.config import load_config
from opensage.core.context import RunContext
from opensage.core.tools import Tool
from opensage.kits.memory import MemoryKit, keep, memory_tools
from opensage.memory.base import open_store
from opensage.memory.embed import embedder_for

STORE = "lessons.db"


class Lessons:
    """Where a bench agent keeps its lessons: one store per benchmark run, one scope per
    repeat."""

    def __init__(self) -> None:
        self._fallback: Path | None = None

    def store_path(self, task: AgentTask) -> Path:
        if task.shared is not None:
            task.shared.mkdir(parents=True, exist_ok=True)
            return task.shared / STORE
        if self._fallback is None:
            folder = tempfile.mkdtemp(prefix="opensage-lessons-")
            weakref.finalize(self, shutil.rmtree, folder, ignore_errors=True)
            self._fallback = Path(folder)
        return self._fallback / STORE

    def scope(self, task: AgentTask) -> str:
        return f"bench-repeat:{task.attempt}"

    def recall(self, task: AgentTask, k: int = 3) -> list[str]:
        """The lessons of this run's earlier tasks that best match the task's prompt."""
        path = self.store_path(task)
        if not path.exists():
            return []
        embedder = embedder_for(load_config(home=task.home).memory_embedder)
        with closing(open_store(path, embedder)) as store:
            hits = store.search(task.prompt, k=k, kind="lesson", scopes=[self.scope(task)])
            return [h.text for h in hits]

    def kit(self, task: AgentTask) -> MemoryKit:
        """The memory kit over this run's store and scope, in place of the user's memory."""
        return LessonsKit(self.store_path(task), self.scope(task))


class LessonsKit(MemoryKit):
    """The `memory` kit's tools and end-of-run consolidation, over another store and scope."""

    def __init__(self, path: Path, scope: str):
        self.path, self.scope = path, scope

    @asynccontextmanager
    async def session(self, ctx: RunContext) -> AsyncIterator[list[Tool]]:
        store = open_store(self.path, embedder_for(ctx.config.memory_embedder))
        try:
            yield memory_tools(store, self.scope)
            await keep(ctx, store, self.scope)
        finally:
            store.close()
