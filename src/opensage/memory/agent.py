"""The memory agent: answers questions from the long-term store and the run's execution graph,
with precise tools, citing the entries it relies on (`ask_memory`)."""

from __future__ import annotations

import asyncio
import json
import re
from importlib import resources
from typing import Any

from opensage.core.loop import AgentConfig, AgentLoop
from opensage.core.tools import Tool, ToolError, Toolset
from opensage.memory.base import MemoryStore, QueryError
from opensage.memory.graph import ExecutionGraph

MAX_ROWS = 50
CITATION = re.compile(r"\[#(\d+)\]")


def instructions() -> str:
    return (resources.files("opensage") / "prompts" / "memory_agent.md").read_text()


def memory_agent_tools(store: MemoryStore, caller: AgentLoop) -> list[Tool]:
    # Async, so they run on the loop's thread: the store's and the event log's SQLite
    # connections belong to it (and the log's unflushed rows are only visible there).

    def graph() -> ExecutionGraph:
        return ExecutionGraph.from_log(caller.log, caller.run_id)

    async def search_memory(query: str, k: int = 10, kind: str | None = None) -> str:
        """Search the long-term memory; entries come with their ids.

        Args:
            query: words describing what you look for.
            k: how many entries at most.
            kind: only entries of this kind (fact, lesson, procedure, ...).
        """
        hits = store.search(query, k=max(1, min(k, MAX_ROWS)), kind=kind)
        return (
            json.dumps(
                [{"id": h.id, "kind": h.kind, "scope": h.scope, "text": h.text} for h in hits],
                indent=1,
            )
            if hits
            else "no entry matches"
        )

    async def facts_about(subject: str, k: int = 10) -> str:
        """What is recorded about a subject (a file, a service, a person...): the facts,
        lessons and procedures that mention it, each with what it is linked to.

        Args:
            subject: the subject, in a few words.
            k: how many entries at most.
        """
        found = []
        for hit in store.search(subject, k=max(1, min(k, MAX_ROWS))):
            links = [{"link": t, "id": h.id} for t, h in store.neighbours(hit.id)]
            found.append({"id": hit.id, "kind": hit.kind, "text": hit.text, "links": links})
        return json.dumps(found, indent=1) if found else f"nothing recorded about {subject!r}"

    async def get_entry(entry_id: int) -> str:
        """One entry by id, with whether a newer entry superseded it.

        Args:
            entry_id: the entry's id.
        """
        hit = store.get(entry_id)
        if hit is None:
            raise ToolError(f"no entry {entry_id}")
        return json.dumps(hit.__dict__)

    async def linked_entries(entry_id: int) -> str:
        """The entries linked to one, with the links' types.

        Args:
            entry_id: the entry's id.
        """
        return (
            json.dumps(
                [{"link": t, "id": h.id, "text": h.text} for t, h in store.neighbours(entry_id)]
            )
            or "[]"
        )

    async def memory_sql(query: str) -> str:
        """Read-only SQL over the memory (tables: entries(id, kind, text, context, metadata,
        scope, created, superseded_by, source_run, source_event, accessed), links(src, dst,
        type)); at most 50 rows.

        Args:
            query: one SELECT statement.
        """
        return await asyncio.to_thread(read_only_sql, store, query)  # its own connection

    async def timeline(agent: str | None = None, last: int = 30) -> str:
        """The current run's steps in order: agents, model calls, tool calls, errors.

        Args:
            agent: only this agent's steps.
            last: how many of the latest steps.
        """
        steps = graph().timeline(agent)[-max(1, last) :]
        return "\n".join(f"{n.id} {n.kind} [{n.agent}] {n.label}" for n in steps)

    async def files_changed() -> str:
        """The files the current run changed, and which calls changed them."""
        g = graph()
        return json.dumps(
            {path: [g.nodes[i].label for i in calls] for path, calls in g.files_changed().items()},
            indent=1,
        )

    async def errors_and_fixes() -> str:
        """The current run's errors, each with the later call that fixed it, if any."""
        return json.dumps(
            [
                {"error": e.label, "agent": e.agent, "fixed_by": fix.label if fix else None}
                for e, fix in graph().errors()
            ],
            indent=1,
        )

    return [
        Tool(f)
        for f in (
            search_memory,
            facts_about,
            get_entry,
            linked_entries,
            memory_sql,
            timeline,
            files_changed,
            errors_and_fixes,
        )
    ]


async def ask(store: MemoryStore, caller: AgentLoop, parent_event: int, question: str) -> str:
    """Run the memory agent on `question` as a child of `caller`; its answer, checked for
    citations of entries that exist."""
    config = AgentConfig(
        name="memory",
        model=caller.config.model,
        instructions=instructions(),
        tools=Toolset(memory_agent_tools(store, caller)),
    )
    result = await caller.run_child(config, question, parent_event=parent_event)
    if not result.ok:
        raise ToolError(f"the memory agent did not answer ({result.stop_reason}: {result.message})")
    answer = result.answer or ""
    cited = sorted({int(i) for i in CITATION.findall(answer)})
    unknown = [i for i in cited if store.get(i) is None]
    if unknown:
        answer += f"\n(note: cited entries {unknown} do not exist)"
    return answer


SQL_SECONDS = 10  # a query runs at most this long


def read_only_sql(store: MemoryStore, query: str) -> str:
    """Run one SELECT through the store's read-only connection, for at most SQL_SECONDS, as
    JSON rows. Blocking: call it in a thread."""
    try:
        names, rows = store.read_only_query(query, MAX_ROWS, SQL_SECONDS)
    except QueryError as exc:
        raise ToolError(f"SQL error: {exc}") from None
    return _rows_json(names, rows)


def _rows_json(names: list[str], rows: list[Any]) -> str:
    return json.dumps([dict(zip(names, r, strict=True)) for r in rows], default=_cell, indent=1)


def _cell(value: Any) -> str:
    """A value JSON cannot hold: binary (a vector) as its size, not kilobytes of escapes."""
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    return str(value)
