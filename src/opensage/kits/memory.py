"""The `memory` kit: remember, recall and ask_memory over the long-term store, and, when the run
ends, its consolidation: lessons from what failed and then worked, and with `[memory] curate`,
the facts, procedures and findings the model draws from the run."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from opensage.core.budget import BudgetExceeded
from opensage.core.context import RunContext
from opensage.core.tools import Tool
from opensage.kits.base import Kit
from opensage.memory.agent import ask
from opensage.memory.base import MemoryStore, open_store
from opensage.memory.consolidate import Consolidation, consolidate, digest, store_curated
from opensage.memory.embed import embedder_for
from opensage.memory.graph import ExecutionGraph
from opensage.models.base import Message, ModelSettings

log = logging.getLogger("opensage.memory")
KINDS = ("fact", "lesson", "procedure", "snippet", "file_summary", "finding")


class MemoryKit(Kit):
    name = "memory"
    acts_on_workdir = False  # the store is the same for an ensemble member

    @asynccontextmanager
    async def session(self, ctx: RunContext) -> AsyncIterator[list[Tool]]:
        store = open_store(ctx.config.memory_location, embedder_for(ctx.config.memory_embedder))
        project = f"project:{ctx.workdir}"
        try:
            yield memory_tools(store, project)
            await keep(ctx, store, project)
        finally:
            store.close()


def memory_tools(store: MemoryStore, project: str) -> list[Tool]:
    """The tools over `store`, writing to and reading from `project`'s scope (and the global
    one)."""

    async def remember(
        content: str,
        kind: str = "fact",
        tags: list[str] | None = None,
        everywhere: bool = False,
        *,
        ctx: RunContext,
    ) -> str:
        """Keep something worth knowing later, in this run and future ones.

        Args:
            content: one self-contained statement (it will be read without this context).
            kind: fact, lesson, procedure, snippet, file_summary or finding.
            tags: words to group it by.
            everywhere: keep it for every project, not only this work dir's.
        """
        entry = store.add(
            content,
            kind=kind if kind in KINDS else "fact",
            metadata={"tags": tags or []},
            scope="global" if everywhere else project,
            source_run=ctx.run_id,
            source_event=ctx.event,
        )
        ctx.emit("memory_written", {"id": entry, "kind": kind})
        return f"remembered as entry {entry}"

    async def recall(query: str, k: int = 5) -> str:
        """Look up what was remembered (this project's and global entries), best first.

        Args:
            query: what you want to know, in words.
            k: how many entries at most.
        """
        hits = store.search(query, k=max(1, min(k, 50)), scopes=[project, "global"])
        if not hits:
            return "nothing remembered matches"
        return json.dumps(
            [
                {"id": h.id, "kind": h.kind, "text": h.text, "tags": h.metadata.get("tags", [])}
                for h in hits
            ],
            indent=1,
        )

    async def ask_memory(question: str, *, ctx: RunContext) -> str:
        """Ask the memory agent: it looks through everything remembered and this run's
        history with precise tools, and answers citing the entries it used as [#id].

        Args:
            question: what you want to know.
        """
        return await ask(store, *ctx.in_call(), question)

    return [Tool(remember), Tool(recall), Tool(ask_memory)]


async def keep(ctx: RunContext, store: MemoryStore, project: str) -> None:
    """At the run's end, keep what it learned: lessons (failures and their fixes) always;
    facts, procedures and findings when the config asks the model to curate. A run whose model
    was asked nothing since it was last consolidated (one killed at its very end, then
    resumed) is not consolidated again."""
    recorded = ctx.log.events(ctx.run_id, ("model_response", "memory_consolidated"))
    if not recorded or recorded[-1].kind == "memory_consolidated":
        return
    graph = ExecutionGraph.from_log(ctx.log, ctx.run_id)
    done = consolidate(store, graph, ctx.run_id, project)
    data: dict[str, Any] = {
        "written": done.written,
        "superseded": done.superseded,
        "already_known": done.already_known,
    }
    curated = (
        await curate(ctx, store, graph, project, done.written + done.already_known)
        if ctx.config.memory_curate
        else None
    )
    if curated is not None:
        data.update(curated=curated.written, curated_known=curated.already_known)
    if curated is not None or any(data.values()):
        ctx.emit("memory_consolidated", data)
        ctx.log.commit()


async def curate(
    ctx: RunContext, store: MemoryStore, graph: ExecutionGraph, scope: str, lessons: list[int]
) -> Consolidation | None:
    """Ask the run's model for the facts, procedures and findings of the run worth keeping (a
    side request: charged to the run and recorded); None if it could not be asked."""
    start = ctx.log.events(ctx.run_id, ("run_started",))
    ended = ctx.log.events(ctx.run_id, ("agent_finished",))
    task = start[0].data.get("task", "") if start else ""
    answer = ended[-1].data.get("answer") if ended else None
    prompt = (resources.files("opensage") / "prompts" / "curator.md").read_text()
    try:
        reply = await ctx.side_request(
            [Message("system", prompt), Message("user", digest(graph, task, answer))],
            "curation",
            settings=ModelSettings(temperature=0),
        )
    except BudgetExceeded as exc:
        log.warning("the run's memory was not curated: %s", exc)
        return None
    except Exception:  # curating is a bonus: a failing model keeps the lessons, nothing more
        log.warning("the model could not curate the run's memory", exc_info=True)
        return None
    return store_curated(store, reply.message.content, ctx.run_id, scope, lessons)
