"""The memory agent: answers questions from the long-term store and the run's execution graph,
with precise tools, citing the entries it relies on (`ask_memory`)."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
from importlib import resources
from typing import Any

from opensage.core.loop import AgentConfig, AgentLoop
from opensage.core.tools import Tool, ToolError, Toolset
from opensage.memory.base import MemoryStore
from opensage.memory.graph import ExecutionGraph
from opensage.memory.postgres import PostgresMemoryStore
from opensage.memory.store import SqliteMemoryStore

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
        return json.dumps([{"id": h.id, "kind": h.kind, "scope": h.scope, "text": h.text}
                           for h in hits], indent=1) if hits else "no entry matches"

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
        return json.dumps([{"link": t, "id": h.id, "text": h.text}
                           for t, h in store.neighbours(entry_id)]) or "[]"

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
        steps = graph().timeline(agent)[-max(1, last):]
        return "\n".join(f"{n.id} {n.kind} [{n.agent}] {n.label}" for n in steps)

    async def files_changed() -> str:
        """The files the current run changed, and which calls changed them."""
        g = graph()
        return json.dumps({path: [g.nodes[i].label for i in calls]
                           for path, calls in g.files_changed().items()}, indent=1)

    async def errors_and_fixes() -> str:
        """The current run's errors, each with the later call that fixed it, if any."""
        return json.dumps([{"error": e.label, "agent": e.agent,
                            "fixed_by": fix.label if fix else None}
                           for e, fix in graph().errors()], indent=1)

    return [Tool(f) for f in (search_memory, facts_about, get_entry, linked_entries, memory_sql,
                              timeline, files_changed, errors_and_fixes)]


async def ask(store: MemoryStore, caller: AgentLoop, parent_event: int, question: str) -> str:
    """Run the memory agent on `question` as a child of `caller`; its answer, checked for
    citations of entries that exist."""
    config = AgentConfig(name="memory", model=caller.config.model, instructions=instructions(),
                         tools=Toolset(memory_agent_tools(store, caller)))
    result = await caller.run_child(config, question, parent_event=parent_event)
    if not result.ok:
        raise ToolError(f"the memory agent did not answer ({result.stop_reason}: "
                        f"{result.message})")
    answer = result.answer or ""
    cited = sorted({int(i) for i in CITATION.findall(answer)})
    unknown = [i for i in cited if store.get(i) is None]
    if unknown:
        answer += f"\n(note: cited entries {unknown} do not exist)"
    return answer


SQL_SECONDS = 10  # a query runs at most this long


def read_only_sql(store: MemoryStore, query: str) -> str:
    """Run one SELECT on a read-only connection that refuses anything but reading, for at most
    SQL_SECONDS. Blocking: call it in a thread."""
    if isinstance(store, PostgresMemoryStore):
        return _read_only_postgres(store.url, query)
    assert isinstance(store, SqliteMemoryStore)
    db = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)
    deadline = time.monotonic() + SQL_SECONDS
    db.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    allowed = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION}

    def authorize(action: int, *args: Any) -> int:
        return sqlite3.SQLITE_OK if action in allowed else sqlite3.SQLITE_DENY

    db.set_authorizer(authorize)
    try:
        cursor = db.execute(query)
        names = [d[0] for d in cursor.description or ()]
        rows = cursor.fetchmany(MAX_ROWS)
    except sqlite3.Error as exc:
        raise ToolError(f"SQL error: {exc}") from None
    finally:
        db.close()
    return _rows_json(names, rows)


def _read_only_postgres(url: str, query: str) -> str:
    import psycopg

    db = psycopg.connect(url, options=f"-c statement_timeout={int(SQL_SECONDS * 1000)}")
    try:
        with db.transaction(force_rollback=True):  # whatever happens, nothing is kept
            db.execute("SET TRANSACTION READ ONLY")
            # Parameters (even none) make psycopg send one statement only: no "...; DELETE".
            cursor = db.execute(query.replace("%", "%%"), ())  # % would be a placeholder
            names = [d.name for d in cursor.description or ()]
            rows = cursor.fetchmany(MAX_ROWS)
    except psycopg.Error as exc:
        raise ToolError(f"SQL error: {exc}") from None
    finally:
        db.close()
    return _rows_json(names, rows)


def _rows_json(names: list[str], rows: list[Any]) -> str:
    return json.dumps([dict(zip(names, r, strict=True)) for r in rows], default=_cell, indent=1)


def _cell(value: Any) -> str:
    """A value JSON cannot hold: binary (a vector) as its size, not kilobytes of escapes."""
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(value)} bytes>"
    return str(value)
