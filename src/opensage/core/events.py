"""The event log: one append-only SQLite file (WAL) holding every run.

Every model request and response, tool call and result, error, budget charge and agent start is
an event with a parent id; conversations' messages are stored once each, in order, in `messages`,
linked to the event that produced them. A model request records the conversation and how many of
its messages it sent, not copies of them. Views (the run tree, costs, resume) are projections.

Writes go into an open transaction that the agent loop commits before every await, so a process
killed at any point loses nothing it had recorded before it last waited on a model or a tool.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opensage.models.base import Message

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id      INTEGER PRIMARY KEY,
    run_id  TEXT NOT NULL,
    parent  INTEGER,
    ts      REAL NOT NULL,
    kind    TEXT NOT NULL,
    agent   TEXT,
    data    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_run ON events (run_id, id);
CREATE INDEX IF NOT EXISTS events_by_kind ON events (kind, run_id);
CREATE TABLE IF NOT EXISTS messages (
    id      INTEGER PRIMARY KEY,
    run_id  TEXT NOT NULL,
    conv    INTEGER NOT NULL,   -- the agent_started event whose conversation this is
    seq     INTEGER NOT NULL,   -- position in that conversation, from 0
    event   INTEGER,            -- the event that produced the message
    data    TEXT NOT NULL,
    UNIQUE (conv, seq)
);
CREATE INDEX IF NOT EXISTS messages_by_event ON messages (event);
CREATE TRIGGER IF NOT EXISTS events_append_only BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS messages_append_only BEFORE UPDATE ON messages
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
"""


@dataclass(slots=True, frozen=True)
class Event:
    id: int
    run_id: str
    parent: int | None
    ts: float
    kind: str
    agent: str | None
    data: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "run_id": self.run_id, "parent": self.parent, "ts": self.ts,
                "kind": self.kind, "agent": self.agent, "data": self.data}


@dataclass(slots=True, frozen=True)
class RunSummary:
    run_id: str
    started: float
    task: str
    agent: str
    model: str
    status: str  # finished | running | interrupted
    stop_reason: str | None
    answer: str | None
    usage: dict[str, Any]
    steps: int
    ended: float | None


Listener = Callable[[str, str | None, dict[str, Any]], None]  # (kind, agent, data)


class EventLog:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode: a committed transaction survives the process being killed; only a
        # power loss can take the last commits back. FULL would fsync on every step.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._db.commit()
        self.listeners: list[Listener] = []

    def close(self) -> None:
        self._db.commit()
        self._db.close()

    # --- writing ------------------------------------------------------------------------------

    def emit(self, run_id: str, kind: str, data: dict[str, Any], *, parent: int | None = None,
             agent: str | None = None) -> int:
        cur = self._db.execute(
            "INSERT INTO events (run_id, parent, ts, kind, agent, data) VALUES (?, ?, ?, ?, ?, ?)",
            (run_id, parent, time.time(), kind, agent, json.dumps(data, default=str)),
        )
        for listener in self.listeners:
            listener(kind, agent, data)
        return cur.lastrowid  # type: ignore[return-value]

    def add_message(self, run_id: str, conv: int, seq: int, message: Message,
                    event: int | None) -> None:
        self._db.execute(
            "INSERT INTO messages (run_id, conv, seq, event, data) VALUES (?, ?, ?, ?, ?)",
            (run_id, conv, seq, event, json.dumps(message.to_dict())),
        )

    def commit(self) -> None:
        self._db.commit()

    # --- reading ------------------------------------------------------------------------------

    def events(self, run_id: str, kinds: tuple[str, ...] = ()) -> list[Event]:
        sql = "SELECT id, run_id, parent, ts, kind, agent, data FROM events WHERE run_id = ?"
        params: list[Any] = [run_id]
        if kinds:
            sql += f" AND kind IN ({', '.join('?' * len(kinds))})"
            params.extend(kinds)
        rows = self._db.execute(sql + " ORDER BY id", params).fetchall()
        return [Event(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]

    def conversation(self, conv: int) -> list[Message]:
        rows = self._db.execute("SELECT data FROM messages WHERE conv = ? ORDER BY seq", (conv,))
        return [Message.from_dict(json.loads(r[0])) for r in rows]

    def messages_by_event(self, run_id: str) -> dict[int, Message]:
        rows = self._db.execute(
            "SELECT event, data FROM messages WHERE run_id = ? AND event IS NOT NULL", (run_id,))
        return {r[0]: Message.from_dict(json.loads(r[1])) for r in rows}

    def find_run(self, prefix: str) -> str | None:
        """A run id from a unique prefix of it, as git does for commits."""
        rows = self._db.execute(
            "SELECT DISTINCT run_id FROM events WHERE kind = 'run_started' AND run_id LIKE ?",
            (prefix.replace("%", "") + "%",)).fetchmany(2)
        return rows[0][0] if len(rows) == 1 else None

    def runs(self, limit: int = 20, run_id: str | None = None) -> list[RunSummary]:
        where = "s.kind = 'run_started'" + (" AND s.run_id = ?" if run_id else "")
        params: tuple[Any, ...] = (run_id, limit) if run_id else (limit,)
        rows = self._db.execute(
            f"""
            SELECT s.run_id, s.ts, s.data,
                   (SELECT data FROM events f WHERE f.run_id = s.run_id
                      AND f.kind = 'run_finished' ORDER BY f.id DESC LIMIT 1),
                   (SELECT ts FROM events f WHERE f.run_id = s.run_id
                      AND f.kind = 'run_finished' ORDER BY f.id DESC LIMIT 1),
                   (SELECT data FROM events r WHERE r.run_id = s.run_id
                      AND r.kind = 'run_resumed' ORDER BY r.id DESC LIMIT 1)
            FROM events s WHERE {where} ORDER BY s.id DESC LIMIT ?
            """, params).fetchall()
        return [self._summary(*r) for r in rows]

    def run(self, run_id: str) -> RunSummary | None:
        found = self.runs(limit=1, run_id=run_id)
        return found[0] if found else None

    @staticmethod
    def _summary(run_id: str, ts: float, started: str, finished: str | None,
                 ended: float | None, resumed: str | None) -> RunSummary:
        s = json.loads(started)
        f = json.loads(finished) if finished else None
        last_pid = json.loads(resumed)["pid"] if resumed else s.get("pid")
        if f is not None:
            status = "finished"
        elif last_pid and _alive(last_pid):
            status = "running"
        else:
            status = "interrupted"
        return RunSummary(
            run_id=run_id, started=ts, task=s.get("task", ""), agent=s.get("agent", {}).get(
                "name", ""), model=s.get("agent", {}).get("model", ""), status=status,
            stop_reason=f.get("stop_reason") if f else None,
            answer=f.get("answer") if f else None,
            usage=f.get("usage", {}) if f else {}, steps=f.get("steps", 0) if f else 0,
            ended=ended,
        )


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
