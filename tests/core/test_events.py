import os
import sqlite3
import subprocess
import sys
import threading

import pytest

from opensage.core.events import EventLog, EventLogError
from opensage.errors import ConfigError
from opensage.models.base import Message, ToolCall


def test_the_log_is_wal_and_append_only(log):
    assert log._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    eid = log.emit("r1", "run_started", {"task": "t", "agent": {"name": "a", "model": "m"}})
    log.commit()
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        log._db.execute("UPDATE events SET kind = 'x' WHERE id = ?", (eid,))


def test_messages_round_trip(log):
    msg = Message("assistant", "hi", tool_calls=(ToolCall("c", "f", '{"a": 1}'),))
    log.add_message("r1", 7, 0, msg, None)
    log.add_message(
        "r1", 7, 1, Message("tool", "1", tool_call_id="c", name="f", is_error=True), None
    )
    assert log.conversation("r1", 7) == [
        msg,
        Message("tool", "1", tool_call_id="c", name="f", is_error=True),
    ]


def test_run_status_and_prefix_lookup(log):
    def start(run_id: str, pid: int) -> int:
        return log.emit(
            run_id,
            "run_started",
            {"task": run_id, "pid": pid, "agent": {"name": "a", "model": "m"}},
        )

    s = start("20260101-aaa", 999_999_999)  # no such process: it was killed
    start("20260101-bbb", 999_999_999)
    log.emit(
        "20260101-bbb",
        "run_finished",
        {"stop_reason": "finished", "answer": "x", "usage": {"cost_usd": 0.5}, "steps": 2},
        parent=s,
    )
    import os

    start("20260102-ccc", os.getpid())  # this process: still running
    log.commit()
    status = {r.run_id: (r.status, r.stop_reason) for r in log.runs()}
    assert status == {
        "20260101-aaa": ("interrupted", None),
        "20260101-bbb": ("finished", "finished"),
        "20260102-ccc": ("running", None),
    }
    assert log.find_run("20260102") == "20260102-ccc"
    assert log.find_run("20260101") is None  # ambiguous
    assert log.run("20260101-bbb").steps == 2


def test_listeners_see_every_event(log):
    seen = []
    log.listeners.append(lambda run, kind, agent, data: seen.append((run, kind, agent, data)))
    log.emit("r", "tool_call", {"name": "x"}, agent="a")
    assert seen == [("r", "tool_call", "a", {"name": "x"})]


def test_event_ids_count_within_each_run(log):
    assert [log.emit("a", "k", {}), log.emit("b", "k", {}), log.emit("a", "k", {})] == [1, 1, 2]
    log.commit()
    reopened = EventLog(log.path)  # another process continuing run "a" picks up after it
    assert reopened.emit("a", "k", {}) == 3


def test_open_shares_one_connection_per_thread(log):
    assert EventLog.open(log.path) is EventLog.open(log.path)
    other: list[EventLog] = []
    thread = threading.Thread(target=lambda: other.append(EventLog.open(log.path)))
    thread.start()
    thread.join()
    assert other[0] is not EventLog.open(log.path)


def test_a_log_of_another_schema_is_refused_clearly(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, data TEXT)")
    with pytest.raises(EventLogError, match="schema 0; this OpenSage reads schema 1"):
        EventLog(path)
    assert EventLog(tmp_path / "new.db")._db.execute("PRAGMA user_version").fetchone()[0] == 1


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_run_is_claimed_by_one_resume_only(home):
    db = home / "events.db"
    first, second = EventLog(db), EventLog(db)  # two connections, as two processes have
    start = first.emit(
        "r1", "run_started", {"task": "t", "pid": dead_pid(), "agent": {"name": "a", "model": "m"}}
    )
    first.commit()
    assert first.claim("r1", parent=start) == 2
    with pytest.raises(
        ConfigError,
        match=rf"^run r1 is being resumed by process {os.getpid()}; "
        "wait for it to end, or stop that process",
    ):
        second.claim("r1", parent=start)
    assert [e.kind for e in second.events("r1")] == ["run_started", "run_resumed"]  # no more


def test_a_claim_takes_over_from_a_dead_resume_past_events_this_process_never_saw(home):
    db = home / "events.db"
    first, second = EventLog(db), EventLog(db)
    start = first.emit(
        "r1", "run_started", {"task": "t", "pid": dead_pid(), "agent": {"name": "a", "model": "m"}}
    )
    first.commit()
    second.emit("r1", "note", {})  # second now counts this run's events from 3
    second.commit()
    killed = EventLog(db)  # a resume that wrote two events, then was killed
    killed.emit("r1", "run_resumed", {"pid": dead_pid()}, parent=start)
    killed.emit("r1", "model_request", {})
    killed.commit()
    assert second.claim("r1", parent=start) == 5  # not 3: ids come from the file
    assert second.run("r1").status == "running"


def test_a_finished_run_cannot_be_claimed(log):
    start = log.emit(
        "r1", "run_started", {"task": "t", "pid": dead_pid(), "agent": {"name": "a", "model": "m"}}
    )
    log.emit("r1", "run_finished", {"stop_reason": "finished"}, parent=start)
    log.commit()
    with pytest.raises(ConfigError, match=r"run r1 is finished \(finished\); only an interrupted"):
        log.claim("r1", parent=start)
    log.emit("r1", "note", {})  # the connection is still usable after the refusal
    log.commit()
