"""Carrying recorded runs from one OpenSage home to another: how a task's run, recorded on the
node of the Ray worker that ran it, reaches the home of the machine that started the
benchmark, where `opensage runs show` and the viewer look for it.

A run is its rows in the event log (`events`, and `messages` for its conversations), copied
as they are: event ids are numbers within their run, so they cannot collide with another
run's. Copying is idempotent (a row already there is kept), so a run carried to the home it
was recorded in, as on a local Ray or a shared file system, changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opensage.core.db import connect, explained
from opensage.core.events import EventLog

EVENT_COLUMNS = "run_id, id, parent, ts, kind, agent, data"
MESSAGE_COLUMNS = "run_id, conv, seq, event, data"


@dataclass
class RunRows:
    """Runs as their event-log rows: plain tuples, cheap to pickle and send."""

    run_ids: list[str] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    messages: list[tuple[Any, ...]] = field(default_factory=list)


def export_runs(events_db: Path, run_ids: Iterable[str]) -> RunRows:
    """The rows of those runs in the event log at `events_db` (none for a run not there)."""
    wanted = sorted(set(run_ids))
    rows = RunRows()
    if not wanted or not events_db.is_file():
        return rows
    EventLog.open(events_db).commit()  # what this process recorded but had not yet written
    db = connect(events_db)
    try:
        with explained(events_db):
            marks = ", ".join("?" * len(wanted))
            rows.events = db.execute(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE run_id IN ({marks})", wanted
            ).fetchall()
            rows.messages = db.execute(
                f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE run_id IN ({marks})", wanted
            ).fetchall()
    finally:
        db.close()
    rows.run_ids = sorted({r[0] for r in rows.events})
    return rows


def import_runs(events_db: Path, rows: RunRows) -> None:
    """Add the runs to the event log at `events_db` (made if missing), keeping rows already
    there. One transaction: a run is there whole or not at all."""
    if not rows.events:
        return
    EventLog.open(events_db)  # the schema, or a clear error for a log of another version
    db = connect(events_db)
    try:
        with explained(events_db), db:
            db.executemany(
                f"INSERT OR IGNORE INTO events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows.events,
            )
            db.executemany(
                f"INSERT OR IGNORE INTO messages ({MESSAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
                rows.messages,
            )
    finally:
        db.close()
