"""The event log: one append-only SQLite file (WAL) holding every run.

Every model request and response, tool call and result, error, budget charge and agent start is
an event with a parent; a conversation's messages are stored once each, in order, in `messages`,
linked to the event that produced them. A model request records the conversation and how many of
its messages it sent, not copies of them. Views (the run tree, costs, resume) are projections.

Event ids are numbers within their run (1, 2, 3...), allocated in memory: a run is written by one
process at a time, so no database round trip is needed per event, and events are stored clustered
by run. Rows are buffered and written in batches inside an open transaction, which the agent loop
commits whenever it is about to wait (on a model, a tool, a timer: see `aio.on_first_wait`)
and at least every 50 ms otherwise. A process killed at any point therefore loses at most the
last milliseconds of work done since it last waited; committing every step instead would cost
more than the rest of the loop together.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from opensage.core.db import StateError, connect, explained
from opensage.errors import ConfigError
from opensage.models.base import Message

# Kept lean on purpose: every index is written on every step. Run listings use a partial index
# that only the few run-level events enter.
SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    run_id  TEXT NOT NULL,
    id      INTEGER NOT NULL,   -- the event's number within its run, from 1
    parent  INTEGER,            -- another event of the same run
    ts      REAL NOT NULL,
    kind    TEXT NOT NULL,
    agent   TEXT,
    data    TEXT NOT NULL,
    PRIMARY KEY (run_id, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS run_events ON events (kind, run_id)
    WHERE kind IN ('run_started', 'run_finished', 'run_resumed');
CREATE TABLE IF NOT EXISTS messages (
    run_id  TEXT NOT NULL,
    conv    INTEGER NOT NULL,   -- the agent_started event whose conversation this is
    seq     INTEGER NOT NULL,   -- position in that conversation, from 0
    event   INTEGER,            -- the event that produced the message
    data    TEXT NOT NULL,
    PRIMARY KEY (run_id, conv, seq)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS events_append_only BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS messages_append_only BEFORE UPDATE ON messages
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
"""
SCHEMA_VERSION = 1  # PRAGMA user_version; bump it, with a migration, when SCHEMA changes
COMMIT_INTERVAL_S = 0.05


def _encode(data: Any) -> str:
    # Stored as text, not bytes, so that SQLite's JSON functions and people can read it.
    return orjson.dumps(data, default=str).decode()


class EventLogError(StateError):
    """The event-log file cannot be used by this version of OpenSage."""


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
        return {
            "id": self.id,
            "run_id": self.run_id,
            "parent": self.parent,
            "ts": self.ts,
            "kind": self.kind,
            "agent": self.agent,
            "data": self.data,
        }


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
    pid: int | None = None  # the process that last started or resumed the run
    resumed: bool = False  # that process resumed it (rather than started it)

    def resume_refusal(self) -> str | None:
        """Why the run cannot be resumed now, or None if it can."""
        if self.status == "running":
            how = "is being resumed by" if self.resumed else "is still running in"
            return (
                f"run {self.run_id} {how} process {self.pid}; wait for it to end, or stop "
                "that process, before resuming"
            )
        if self.status == "finished" and self.stop_reason != "cancelled":
            return (
                f"run {self.run_id} is finished ({self.stop_reason}); only an interrupted "
                "or cancelled run can be resumed"
            )
        return None


Listener = Callable[[str, str, str | None, dict[str, Any]], None]  # (run_id, kind, agent, data)
Observer = Callable[[Event], None]  # sees each event whole, with its id and parent


class EventLog:
    """One connection to an event-log file. Use `EventLog.open(path)` to share the connection of
    this thread (opening and closing SQLite costs more than a whole short run)."""

    _open: threading.local = threading.local()

    @classmethod
    def open(cls, path: str | Path) -> EventLog:
        logs: dict[str, EventLog] = cls._open.__dict__.setdefault("logs", {})
        key = str(path)
        if key not in logs or logs[key].closed:
            logs[key] = cls(path)
        return logs[key]

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._db = connect(self.path)  # a damaged file or an unusable home: a StateError
        # NORMAL in WAL mode: a committed transaction survives the process being killed; only a
        # power loss can take the last commits back. FULL would fsync on every commit.
        self._db.execute("PRAGMA synchronous=NORMAL")
        with explained(self.path):
            self._create_or_check_schema()
        self._committed_at = time.monotonic()
        self._next_id: dict[str, int] = {}
        self._events: list[tuple[Any, ...]] = []
        # A sync tool runs in a worker thread and may record events (RunContext.emit): ids are
        # handed out, and the rows to write taken, under a lock.
        self._ids = threading.RLock()
        self._messages: list[tuple[Any, ...]] = []
        self.listeners: list[Listener] = []
        self.observers: list[Observer] = []  # e.g. a live view that draws the run's tree
        self.closed = False

    def _create_or_check_schema(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        has_tables = self._db.execute(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'events'"
        ).fetchone()[0]
        if version != SCHEMA_VERSION and (has_tables or version):
            raise EventLogError(
                f"{self.path} was written with event-log schema {version}; this OpenSage "
                f"reads schema {SCHEMA_VERSION}. Move the file aside to start a new log."
            )
        self._db.executescript(SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION};")
        self._db.commit()

    def close(self) -> None:
        self.commit()
        self._db.close()
        self.closed = True

    # --- writing ------------------------------------------------------------------------------

    def emit(
        self,
        run_id: str,
        kind: str,
        data: dict[str, Any],
        *,
        parent: int | None = None,
        agent: str | None = None,
    ) -> int:
        """Record an event; returns its id within the run."""
        with self._ids:
            eid = self._next_id.get(run_id) or self._first_free_id(run_id)
            self._next_id[run_id] = eid + 1
            ts = time.time()
            self._events.append((run_id, eid, parent, ts, kind, agent, _encode(data)))
        for listener in self.listeners:
            listener(run_id, kind, agent, data)
        if self.observers:
            event = Event(eid, run_id, parent, ts, kind, agent, data)
            for observer in self.observers:
                observer(event)
        return eid

    def add_message(
        self, run_id: str, conv: int, seq: int, message: Message, event: int | None
    ) -> None:
        self._messages.append((run_id, conv, seq, event, _encode(message.to_dict())))

    def commit(self) -> None:
        self._flush()
        self._db.commit()
        self._committed_at = time.monotonic()

    def commit_if_due(self) -> None:
        if time.monotonic() - self._committed_at >= COMMIT_INTERVAL_S:
            self.commit()

    def _flush(self) -> None:
        """Write buffered rows into the open transaction."""
        if self._events:
            with self._ids:
                rows, self._events = self._events, []
            self._db.executemany(
                "INSERT INTO events (run_id, id, parent, ts, kind, agent, data) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        if self._messages:
            self._db.executemany(
                "INSERT INTO messages (run_id, conv, seq, event, data) VALUES (?, ?, ?, ?, ?)",
                self._messages,
            )
            self._messages.clear()

    def claim(self, run_id: str, parent: int) -> int:
        """Take a run over to resume it: record a `run_resumed` event with this process's pid,
        unless the run is finished or a live process holds it (ConfigError, naming it). The
        check and the write are one write transaction, so of several processes resuming a run
        at once exactly one gets it. Returns the event's id: taken from the file, not from
        this process's count, since another process may have written the run since."""
        self.commit()
        self._db.execute("BEGIN IMMEDIATE")  # the write lock, held until the claim is written
        try:
            summary = self.run(run_id)
            refusal = summary.resume_refusal() if summary else f"no run {run_id!r}"
            if refusal:
                raise ConfigError(refusal)
            self._next_id[run_id] = self._first_free_id(run_id)
            event = self.emit(run_id, "run_resumed", {"pid": os.getpid()}, parent=parent)
            self.commit()
        except BaseException:
            self._db.rollback()
            self._events.clear()
            self._next_id.pop(run_id, None)
            raise
        return event

    def _first_free_id(self, run_id: str) -> int:
        self._flush()
        row = self._db.execute("SELECT MAX(id) FROM events WHERE run_id = ?", (run_id,))
        return int(row.fetchone()[0] or 0) + 1

    # --- reading ------------------------------------------------------------------------------

    def events(self, run_id: str, kinds: tuple[str, ...] = ()) -> list[Event]:
        self._flush()
        sql = "SELECT id, run_id, parent, ts, kind, agent, data FROM events WHERE run_id = ?"
        params: list[Any] = [run_id]
        if kinds:
            sql += f" AND kind IN ({', '.join('?' * len(kinds))})"
            params.extend(kinds)
        rows = self._db.execute(sql + " ORDER BY id", params).fetchall()
        return [Event(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]

    def conversation(self, run_id: str, conv: int) -> list[Message]:
        self._flush()
        rows = self._db.execute(
            "SELECT data FROM messages WHERE run_id = ? AND conv = ? ORDER BY seq", (run_id, conv)
        )
        return [Message.from_dict(json.loads(r[0])) for r in rows]

    def messages_by_event(self, run_id: str) -> dict[int, Message]:
        """The run's messages keyed by the event that produced them (for the trace view)."""
        self._flush()
        rows = self._db.execute(
            "SELECT event, data FROM messages WHERE run_id = ? AND event IS NOT NULL", (run_id,)
        )
        return {r[0]: Message.from_dict(json.loads(r[1])) for r in rows}

    def find_run(self, prefix: str) -> str | None:
        """A run id from a unique prefix of it, as git does for commits."""
        self._flush()
        rows = self._db.execute(
            "SELECT run_id FROM events WHERE kind = 'run_started' AND run_id LIKE ?",
            (prefix.replace("%", "") + "%",),
        ).fetchmany(2)
        return rows[0][0] if len(rows) == 1 else None

    def runs(self, limit: int = 20, run_id: str | None = None) -> list[RunSummary]:
        self._flush()
        where = "s.kind = 'run_started'" + (" AND s.run_id = ?" if run_id else "")
        params: tuple[Any, ...] = (run_id, limit) if run_id else (limit,)
        rows = self._db.execute(
            f"""
            SELECT s.run_id, s.ts, s.data, f.id, f.ts, f.data, r.id, r.data
            FROM events s
            LEFT JOIN events f ON f.kind = 'run_finished' AND f.run_id = s.run_id
                AND f.id = (SELECT MAX(id) FROM events WHERE kind = 'run_finished'
                            AND run_id = s.run_id)
            LEFT JOIN events r ON r.kind = 'run_resumed' AND r.run_id = s.run_id
                AND r.id = (SELECT MAX(id) FROM events WHERE kind = 'run_resumed'
                            AND run_id = s.run_id)
            WHERE {where} ORDER BY s.ts DESC LIMIT ?
            """,
            params,
        ).fetchall()
        return [self._summary(*r) for r in rows]

    def run(self, run_id: str) -> RunSummary | None:
        found = self.runs(limit=1, run_id=run_id)
        return found[0] if found else None

    @staticmethod
    def _summary(
        run_id: str,
        ts: float,
        started: str,
        finished_id: int | None,
        ended: float | None,
        finished: str | None,
        resumed_id: int | None,
        resumed: str | None,
    ) -> RunSummary:
        s = json.loads(started)
        # A run resumed after it last finished (a cancelled run, say) is live again.
        live_again = resumed_id is not None and (finished_id is None or resumed_id > finished_id)
        f = json.loads(finished) if finished and not live_again else None
        last_pid = json.loads(resumed)["pid"] if resumed else s.get("pid")
        if f is not None:
            status = "finished"
        elif last_pid and _alive(last_pid):
            status = "running"
        else:
            status = "interrupted"
        agent = s.get("agent", {})
        return RunSummary(
            run_id=run_id,
            started=ts,
            task=s.get("task", ""),
            agent=agent.get("name", ""),
            model=agent.get("model", ""),
            status=status,
            stop_reason=f.get("stop_reason") if f else None,
            answer=f.get("answer") if f else None,
            usage=f.get("usage", {}) if f else {},
            steps=f.get("steps", 0) if f else 0,
            ended=ended if f else None,
            pid=last_pid,
            resumed=resumed is not None,
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
