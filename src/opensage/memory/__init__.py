"""Memory: the long-term store and the memory tools agents use.

    from opensage.memory import MemoryStore
    store = MemoryStore(path, embedder_for("auto"))   # vectors too, if the extra is installed
    mid = store.add(text, kind="fact", metadata={...})
    hits = store.search(query, k=10)        # .id .text .score .metadata
"""

from __future__ import annotations

import json
import logging
from importlib import resources
from typing import Any

from opensage.core.context import current_call
from opensage.core.events import EventLog
from opensage.core.tools import Tool
from opensage.kits import KitContext
from opensage.memory.agent import ask
from opensage.memory.base import Hit, MemoryStore, open_store
from opensage.memory.consolidate import Consolidation, consolidate, digest, store_curated
from opensage.memory.embed import Embedder, embedder_for
from opensage.memory.graph import ExecutionGraph
from opensage.memory.postgres import PostgresMemoryStore
from opensage.memory.store import SqliteMemoryStore
from opensage.models.base import Message, Model, ModelSettings

__all__ = ["Embedder", "Hit", "MemoryStore", "PostgresMemoryStore", "SqliteMemoryStore",
           "embedder_for", "memory_kit", "open_store"]

log_warning = logging.getLogger("opensage.memory")
KINDS = ("fact", "lesson", "procedure", "snippet", "file_summary", "finding")


async def curate(model: Model, store: MemoryStore, log: EventLog, graph: ExecutionGraph,
                 run_id: str, scope: str, lessons: list[int]) -> tuple[Consolidation, dict[str,
                                                                                         Any]]:
    """Ask the model for the facts, procedures and findings of a run worth keeping."""
    start = log.events(run_id, ("run_started",))
    end = log.events(run_id, ("run_finished",))
    task = start[0].data.get("task", "") if start else ""
    answer = end[-1].data.get("answer") if end else None
    prompt = (resources.files("opensage") / "prompts" / "curator.md").read_text()
    try:
        reply = await model.request([Message("system", prompt),
                                     Message("user", digest(graph, task, answer))], [],
                                    ModelSettings(temperature=0))
    except Exception:  # curating is a bonus: a failing model keeps the lessons, nothing more
        log_warning.warning("the model could not curate the run's memory", exc_info=True)
        return Consolidation(), {}
    return store_curated(store, reply.message.content, run_id, scope, lessons), \
        reply.usage.to_dict()


def memory_kit(ctx: KitContext) -> list[Tool]:
    store = MemoryStore.open(ctx.settings.get("memory") or ctx.home / "memory.db",
                             embedder_for(ctx.settings.get("memory_embedder")))
    project = f"project:{ctx.workdir}"

    async def close() -> None:
        # The run is over: keep what it learned. Lessons (failures and their fixes) always;
        # facts, procedures and findings when the config asks the model to curate.
        try:
            if ctx.run_id:
                await keep(EventLog.open(ctx.home / "events.db"), ctx.run_id)
        finally:
            store.close()

    async def keep(log: EventLog, run_id: str) -> None:
        graph = ExecutionGraph.from_log(log, run_id)
        done = consolidate(store, graph, run_id, project)
        data: dict[str, Any] = {"written": done.written, "superseded": done.superseded,
                                "already_known": done.already_known}
        if ctx.settings.get("memory_curate") and ctx.model is not None:
            curated, usage = await curate(ctx.model, store, log, graph, run_id, project,
                                          done.written + done.already_known)
            data.update(curated=curated.written, curated_known=curated.already_known,
                        curator_usage=usage)
        if any(data.values()):
            log.emit(run_id, "memory_consolidated", data, parent=1)  # run_started: 1
            log.commit()

    ctx.cleanups.append(close)

    async def remember(content: str, kind: str = "fact", tags: list[str] | None = None,
                       everywhere: bool = False) -> str:
        """Keep something worth knowing later, in this run and future ones.

        Args:
            content: one self-contained statement (it will be read without this context).
            kind: fact, lesson, procedure, snippet, file_summary or finding.
            tags: words to group it by.
            everywhere: keep it for every project, not only this work dir's.
        """
        call = current_call()
        entry = store.add(content, kind=kind if kind in KINDS else "fact",
                          metadata={"tags": tags or []},
                          scope="global" if everywhere else project,
                          source_run=call.loop.run_id, source_event=call.event)
        call.loop.log.emit(call.loop.run_id, "memory_written", {"id": entry, "kind": kind},
                           parent=call.event, agent=call.loop.config.name)
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
        return json.dumps([{"id": h.id, "kind": h.kind, "text": h.text,
                            "tags": h.metadata.get("tags", [])} for h in hits], indent=1)

    async def ask_memory(question: str) -> str:
        """Ask the memory agent: it looks through everything remembered and this run's
        history with precise tools, and answers citing the entries it used as [#id].

        Args:
            question: what you want to know.
        """
        call = current_call()
        return await ask(store, call.loop, call.event, question)

    return [Tool(remember), Tool(recall), Tool(ask_memory)]
