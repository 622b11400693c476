"""The viewer's reading of the event log: runs, a run with its agent tree, pages of its events,
one event whole, a conversation's messages. Everything here only reads (see db.py).

Text is returned as it was recorded: escaping is the page's job (it sets textContent), so the
API gives scripts the real values. Long values are cut in lists and previews, never in the
views of one event (`event`), which give everything the log has, the full output included.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

import orjson

from opensage.core.events import Event, EventLog, RunSummary
from opensage.ui.db import Home
from opensage.ui.tree import RunTree

PREVIEW = 400  # characters of a message in a list of events
DATA_TEXT = 2000  # characters of a text field of an event's data in a list
HIDDEN_KINDS = ("model_request", "budget_charge")  # shown through their response
CITATION = re.compile(r"\[#(\d+)\]")
RUN_COLUMNS = """
    SELECT s.run_id, s.ts, s.data, f.id, f.ts, f.data, r.id, r.data
    FROM events s
    LEFT JOIN events f ON f.kind = 'run_finished' AND f.run_id = s.run_id
        AND f.id = (SELECT MAX(id) FROM events WHERE kind = 'run_finished' AND run_id = s.run_id)
    LEFT JOIN events r ON r.kind = 'run_resumed' AND r.run_id = s.run_id
        AND r.id = (SELECT MAX(id) FROM events WHERE kind = 'run_resumed' AND run_id = s.run_id)
"""


def _run_dict(s: RunSummary, live: dict[str, Any] | None = None) -> dict[str, Any]:
    usage = dict(s.usage)
    if live is not None:  # not finished: what its model calls spent so far
        usage = live
    return {
        "run_id": s.run_id,
        "task": s.task,
        "agent": s.agent,
        "model": s.model,
        "status": s.status,
        "stop_reason": s.stop_reason,
        "answer": s.answer,
        "steps": s.steps if s.status == "finished" else usage.get("steps", 0),
        "requests": usage.get("requests", 0),
        "tokens": usage.get("total_tokens", 0),
        "cost_usd": usage.get("cost_usd", 0.0),
        "usage": usage,
        "started": s.started,
        "ended": s.ended,
        "duration_s": (s.ended - s.started) if s.ended else None,
        "pid": s.pid,
        "resumed": s.resumed,
    }


ARGUED = ("run_agent", "ensemble", "recall")  # calls whose arguments the run's view shows
ANSWERED = ("recall", "ask_memory")  # results that name memory entries
FOLLOWED = 8  # runs whose trees are kept between requests


@dataclass
class _Followed:
    tree: RunTree
    kept: list[Event] = field(default_factory=list)  # the ARGUED calls, the ANSWERED results
    lock: threading.Lock = field(default_factory=threading.Lock)


class Runs:
    def __init__(self, home: Home):
        self.db = home.events
        self.home = home
        self._lock = threading.Lock()
        self._followed_runs: dict[str, _Followed] = {}

    # --- the list -----------------------------------------------------------------------------

    def listing(
        self, query: str = "", limit: int = 50, before: float | None = None
    ) -> list[dict[str, Any]]:
        where: list[str] = ["s.kind = 'run_started'"]
        params: list[Any] = []
        for word in query.split():
            like = f"%{word.replace('%', '').replace('_', '')}%"
            where.append(
                "(s.run_id LIKE ? OR json_extract(s.data, '$.task') LIKE ? OR "
                "json_extract(s.data, '$.agent.model') LIKE ? OR "
                "json_extract(s.data, '$.agent.name') LIKE ?)"
            )
            params += [like] * 4
        if before is not None:
            where.append("s.ts < ?")
            params.append(before)
        rows = self.db.rows(
            f"{RUN_COLUMNS} WHERE {' AND '.join(where)} ORDER BY s.ts DESC LIMIT ?",
            [*params, max(1, min(limit, 500))],
        )
        runs = [EventLog._summary(*r) for r in rows]
        return [
            _run_dict(s, None if s.status == "finished" else self._live_usage(s.run_id))
            for s in runs
        ]

    def summary(self, run_id: str) -> RunSummary | None:
        row = self.db.one(f"{RUN_COLUMNS} WHERE s.kind = 'run_started' AND s.run_id = ?", (run_id,))
        return EventLog._summary(*row) if row else None

    def _live_usage(self, run_id: str) -> dict[str, Any]:
        row = self.db.one(
            "SELECT COUNT(*), COUNT(json_extract(data, '$.step')), "
            "SUM(json_extract(data, '$.usage.input_tokens')), "
            "SUM(json_extract(data, '$.usage.output_tokens')), "
            "SUM(json_extract(data, '$.usage.cost_usd')) "
            "FROM events WHERE run_id = ? AND kind = 'model_response'",
            (run_id,),
        )
        requests, steps, tokens_in, tokens_out, cost = row or (0, 0, 0, 0, 0)
        return {
            "requests": requests,
            "steps": steps,
            "input_tokens": tokens_in or 0,
            "output_tokens": tokens_out or 0,
            "total_tokens": (tokens_in or 0) + (tokens_out or 0),
            "cost_usd": cost or 0.0,
        }

    # --- one run ------------------------------------------------------------------------------

    def events(
        self,
        run_id: str,
        after: int = 0,
        limit: int | None = None,
        kinds: tuple[str, ...] = (),
        skip: tuple[str, ...] = (),
        agent: str | None = None,
        before: int | None = None,
    ) -> list[Event]:
        sql = (
            "SELECT id, run_id, parent, ts, kind, agent, data FROM events WHERE run_id = ? "
            "AND id > ?"
        )
        params: list[Any] = [run_id, after]
        if before is not None:
            sql += " AND id < ?"
            params.append(before)
        if kinds:
            sql += f" AND kind IN ({', '.join('?' * len(kinds))})"
            params += kinds
        if skip:
            sql += f" AND kind NOT IN ({', '.join('?' * len(skip))})"
            params += skip
        if agent is not None:
            sql += " AND agent = ?"
            params.append(agent)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [
            Event(r[0], r[1], r[2], r[3], r[4], r[5], orjson.loads(r[6]))
            for r in self.db.rows(sql, params)
        ]

    def messages(self, run_id: str, events: list[int]) -> dict[int, dict[str, Any]]:
        """The messages the given events produced, by event."""
        if not events:
            return {}
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(events), 500):  # under SQLite's variable limit
            chunk = events[start : start + 500]
            rows = self.db.rows(
                f"SELECT event, data FROM messages WHERE run_id = ? AND event IN "
                f"({', '.join('?' * len(chunk))})",
                [run_id, *chunk],
            )
            found.update((r[0], json.loads(r[1])) for r in rows)
        return found

    def last_event(self, run_id: str) -> int:
        row = self.db.one("SELECT MAX(id) FROM events WHERE run_id = ?", (run_id,))
        return int(row[0] or 0) if row else 0

    def _followed(self, run_id: str) -> _Followed:
        """The run's tree, brought up to date with the events recorded since it was last
        asked for: a live run's page refreshes it every second or so, and a run of many
        thousand events is read whole only once."""
        with self._lock:
            followed = self._followed_runs.pop(run_id, None) or _Followed(RunTree(run_id))
            self._followed_runs[run_id] = followed  # the most recent last
            while len(self._followed_runs) > FOLLOWED:
                del self._followed_runs[next(iter(self._followed_runs))]
        with followed.lock:
            for e in self.events(run_id, followed.tree.last_event):
                followed.tree.add(e)
                if (e.kind == "tool_call" and e.data.get("name") in ARGUED) or (
                    e.kind == "tool_result" and e.data.get("name") in ANSWERED and e.data.get("ok")
                ):
                    followed.kept.append(e)
        return followed

    def detail(self, run_id: str) -> dict[str, Any] | None:
        """The run with its agent tree, ensembles, created agents and tools, memory and errors."""
        summary = self.summary(run_id)
        if summary is None:
            return None
        followed = self._followed(run_id)
        with followed.lock:
            return self._detail(run_id, summary, followed.tree, followed.kept)

    def _detail(
        self, run_id: str, summary: RunSummary, tree: RunTree, events: list[Event]
    ) -> dict[str, Any]:
        live = (
            None
            if summary.status == "finished"
            else {
                **tree.usage,
                "steps": sum(n.steps for n in tree.agents.values() if n.parent is None),
            }
        )
        run = _run_dict(summary, live)
        run.update(
            workdir=tree.run.get("workdir"),
            limits=tree.run.get("limits"),
            message=(tree.finished or {}).get("message"),
            events=tree.last_event,
            kits=(tree.run.get("agent") or {}).get("kits"),
        )
        arguments = self._call_arguments(run_id, tree, events)
        agents = []
        for depth, node in tree.walk():
            d = tree.agent_dict(node)
            d["depth"] = depth
            via = arguments.get(node.via or -1, {})
            d["background"] = node.via_tool == "run_agent" and via.get("background") is True
            d["task"] = via.get("task") if isinstance(via.get("task"), str) else None
            agents.append(d)
        ensembles = [self._ensemble(run_id, tree, e) for e in tree.ensembles.values()]
        return {
            "run": run,
            "agents": agents,
            "ensembles": ensembles,
            "created_agents": self._definitions(tree.created),
            "tools": tree.tools,
            "memory": self._memory(run_id, tree, events, arguments),
            "errors": self._errors(run_id, tree),
            "last_event": tree.last_event,
        }

    def _errors(self, run_id: str, tree: RunTree) -> list[dict[str, Any]]:
        """The run's errors; a failed tool call's with what it answered (its error text)."""
        failed = {e["event"]: dict(e) for e in tree.errors}
        said = self.messages(run_id, sorted(failed))
        for event, error in failed.items():
            text = (said.get(event) or {}).get("content")
            if text:
                error["message"] = f"{error['message']}: {text[:DATA_TEXT]}"
        return list(failed.values())

    def _call_arguments(
        self, run_id: str, tree: RunTree, events: list[Event]
    ) -> dict[int, dict[str, Any]]:
        """The parsed arguments of the calls that started agents or ensembles, or recalled
        memory, by tool_call event."""
        wanted = {e.id: e for e in events if e.kind == "tool_call" and e.data.get("name") in ARGUED}
        responses = sorted({e.parent for e in wanted.values() if e.parent is not None})
        messages = self.messages(run_id, responses)
        out: dict[int, dict[str, Any]] = {}
        for event in wanted.values():
            message = messages.get(event.parent or -1) or {}
            for call in message.get("tool_calls") or []:
                if call.get("id") == event.data.get("call_id"):
                    out[event.id] = _parsed(call.get("arguments"))
                    break
        return out

    def _ensemble(self, run_id: str, tree: RunTree, ensemble: Any) -> dict[str, Any]:
        """An ensemble with each candidate's outcome and verification, from the result its tool
        call returned (recorded in the log's message)."""
        d = tree.ensemble_dict(ensemble)
        call = tree.call(ensemble.via) if ensemble.via is not None else None
        report: dict[str, Any] = {}
        if call is not None and call.result is not None:
            message = self.messages(run_id, [call.result]).get(call.result) or {}
            full = self.events_by_id(run_id, [call.result])
            text = (full[0].data.get("full_output") if full else None) or message.get("content")
            report = _parsed(text)
        candidates = {
            c.get("index"): c for c in report.get("candidates") or [] if isinstance(c, dict)
        }
        for member in d["members"]:
            candidate = candidates.get(member["index"], {})
            node = tree.agents.get(member["agent"]) if member["agent"] else None
            outcome = node.outcome if node is not None else None
            member["stop_reason"] = (outcome or {}).get("stop_reason") or candidate.get(
                "stop_reason"
            )
            member["verify_exit_code"] = candidate.get("verify_exit_code")
            member["passed"] = (
                None if member["verify_exit_code"] is None else member["verify_exit_code"] == 0
            )
            member["cost_usd"] = ((outcome or {}).get("usage") or {}).get(
                "cost_usd", candidate.get("cost_usd")
            )
            member["steps"] = node.steps if node is not None else candidate.get("steps")
            member["answer"] = (outcome or {}).get("answer") or candidate.get("answer")
            member["selected"] = ensemble.selected == member["index"]
        d["answer"] = report.get("answer")
        return d

    def _definitions(self, created: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The agents the run created, with their instructions from the agent library."""
        out = []
        for c in created:
            row = self.home.agents.one(
                "SELECT data FROM agents WHERE name = ? AND version = ?",
                (c.get("name"), c.get("version")),
            )
            spec = _parsed(row[0]) if row else {}
            out.append({**c, "instructions": spec.get("instructions")})
        return out

    def _memory(
        self, run_id: str, tree: RunTree, events: list[Event], arguments: dict[int, dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Memory entries the run wrote, recalled or was told of (cited by the memory agent),
        each with its text when the store has it."""
        found = [dict(m) for m in tree.memory]
        answered = [
            e
            for e in events
            if e.kind == "tool_result" and e.data.get("name") in ANSWERED and e.data.get("ok")
        ]
        messages = self.messages(run_id, [e.id for e in answered])
        for e in answered:
            text = e.data.get("full_output") or (messages.get(e.id) or {}).get("content", "")
            if e.data.get("name") == "recall":
                hits = _parsed_list(text)
                ids = [h.get("id") for h in hits if isinstance(h, dict)]
            else:
                ids = [int(i) for i in CITATION.findall(text)]
            query = arguments.get(e.parent or -1, {}).get("query")
            for entry_id in dict.fromkeys(i for i in ids if isinstance(i, int)):
                found.append(
                    {
                        "how": "recalled" if e.data.get("name") == "recall" else "cited",
                        "id": entry_id,
                        "kind": None,
                        "event": e.id,
                        "agent": e.agent,
                        "query": query,
                    }
                )
        texts = self._memory_texts([m["id"] for m in found if isinstance(m.get("id"), int)])
        for m in found:
            entry = texts.get(m["id"]) if isinstance(m.get("id"), int) else None
            if entry is not None:
                m["text"], m["kind"] = entry[0][:DATA_TEXT], m.get("kind") or entry[1]
        return found

    def _memory_texts(self, ids: list[int]) -> dict[int, tuple[str, str]]:
        store = self.home.memory
        if not ids:
            return {}
        ids = list(dict.fromkeys(ids))[:500]
        rows = store.rows(
            f"SELECT id, text, kind FROM entries WHERE id IN ({', '.join('?' * len(ids))})", ids
        )
        return {int(r[0]): (r[1], r[2]) for r in rows}

    def events_by_id(self, run_id: str, ids: list[int]) -> list[Event]:
        if not ids:
            return []
        rows = self.db.rows(
            f"SELECT id, run_id, parent, ts, kind, agent, data FROM events "
            f"WHERE run_id = ? AND id IN ({', '.join('?' * len(ids))})",
            [run_id, *ids],
        )
        return [Event(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]

    # --- pages of events ----------------------------------------------------------------------

    def page(
        self,
        run_id: str,
        after: int = 0,
        limit: int = 200,
        agent: str | None = None,
        errors_only: bool = False,
        before: int | None = None,
        skip: tuple[str, ...] = HIDDEN_KINDS,
    ) -> dict[str, Any]:
        """Events after `after` (and before `before`), at most `limit`, as rows for a timeline:
        each with a preview of its message, a tool call with its arguments (cut), a result
        with its size. `next` is where the next page starts, None at the run's last event;
        `last_event` the run's last event when the page was read (a live view follows on from
        there)."""
        limit = max(1, min(limit, 1000))
        last = self.last_event(run_id)  # first: an event recorded meanwhile comes later
        if errors_only:
            found = [
                e
                for e in self.events(
                    run_id,
                    after,
                    None,
                    ("tool_result", "model_error", "agent_finished"),
                    (),
                    agent,
                    before,
                )
                if _is_error(e)
            ][: limit + 1]
        else:
            found = self.events(run_id, after, limit + 1, (), skip, agent, before)
        more = len(found) > limit
        found = found[:limit]
        return {
            "events": self.rows(run_id, found),
            "next": found[-1].id if more and found else None,
            "last_event": last,
        }

    def rows(self, run_id: str, events: list[Event]) -> list[dict[str, Any]]:
        calls = [e for e in events if e.kind == "tool_call"]
        wanted = [e.id for e in events if e.kind in ("model_response", "tool_result")]
        wanted += [e.parent for e in calls if e.parent is not None]
        messages = self.messages(run_id, sorted(set(wanted)))
        return [_row(e, messages) for e in events]

    def event(self, run_id: str, event_id: int) -> dict[str, Any] | None:
        """One event whole: its data (a full output included), the message it produced, and
        for a tool call or result the other half with the call's arguments."""
        found = self.events_by_id(run_id, [event_id])
        if not found:
            return None
        e = found[0]
        out: dict[str, Any] = {"event": e.to_dict()}
        related = [e.id] + ([e.parent] if e.parent is not None else [])
        call = result = None
        if e.kind == "tool_call":
            call = e
            results = self.db.rows(
                "SELECT id FROM events WHERE run_id = ? AND parent = ? AND kind = 'tool_result'",
                (run_id, e.id),
            )
            if results:
                result = self.events_by_id(run_id, [results[0][0]])[0]
        elif e.kind == "tool_result" and e.parent is not None:
            result = e
            parents = self.events_by_id(run_id, [e.parent])
            call = parents[0] if parents else None
        if call is not None:
            related += [call.id] + ([call.parent] if call.parent is not None else [])
        if result is not None:
            related.append(result.id)
        messages = self.messages(run_id, sorted(set(related)))
        out["message"] = messages.get(e.id)
        if call is not None:
            response = messages.get(call.parent or -1) or {}
            raw = next(
                (
                    c.get("arguments")
                    for c in response.get("tool_calls") or []
                    if c.get("id") == call.data.get("call_id")
                ),
                None,
            )
            out["call"] = {
                "event": call.id,
                "name": call.data.get("name"),
                "arguments": raw,
                "parsed": _parsed(raw) if raw else None,
                "agent": call.agent,
            }
        if result is not None:
            seen = (messages.get(result.id) or {}).get("content")
            full = result.data.get("full_output")
            out["result"] = {
                "event": result.id,
                **{k: v for k, v in result.data.items() if k != "full_output"},
                "output": full if full is not None else seen,
                "seen": seen if full is not None else None,
            }
        if e.kind == "model_request" and "conv" in e.data:
            out["conversation"] = {"conv": e.data["conv"], "upto": e.data.get("upto")}
        if e.kind == "model_response" and e.parent is not None:
            request = self.events_by_id(run_id, [e.parent])
            if request:
                out["request"] = request[0].to_dict()
        return out

    def conversation(
        self, run_id: str, conv: int, start: int = 0, end: int | None = None
    ) -> dict[str, Any]:
        total = self.db.one(
            "SELECT COUNT(*) FROM messages WHERE run_id = ? AND conv = ?", (run_id, conv)
        )
        end = total[0] if end is None else end
        rows = self.db.rows(
            "SELECT seq, event, data FROM messages WHERE run_id = ? AND conv = ? "
            "AND seq >= ? AND seq < ? ORDER BY seq LIMIT 200",
            (run_id, conv, max(0, start), end),
        )
        return {
            "conv": conv,
            "total": total[0] if total else 0,
            "messages": [{"seq": r[0], "event": r[1], **json.loads(r[2])} for r in rows],
        }


def _is_error(e: Event) -> bool:
    if e.kind == "tool_result":
        return not e.data.get("ok")
    if e.kind == "agent_finished":
        return e.data.get("stop_reason") not in ("finished", "cancelled")
    return e.kind == "model_error"


def _row(e: Event, messages: dict[int, dict[str, Any]]) -> dict[str, Any]:
    data = {k: _cut(v) for k, v in e.data.items() if k not in ("full_output", "messages")}
    row: dict[str, Any] = {
        "id": e.id,
        "parent": e.parent,
        "ts": e.ts,
        "kind": e.kind,
        "agent": e.agent,
        "data": data,
        "error": _is_error(e),
    }
    message = messages.get(e.id)
    if message is not None:
        row["text"] = (message.get("content") or "")[:PREVIEW]
        row["chars"] = len(message.get("content") or "")
        if message.get("tool_calls"):
            row["calls"] = [
                {"name": c.get("name"), "arguments": (c.get("arguments") or "")[:PREVIEW]}
                for c in message["tool_calls"]
            ]
    if e.kind == "tool_result":
        row["cut"] = "full_output" in e.data
    if e.kind == "tool_call":
        response = messages.get(e.parent or -1) or {}
        raw = next(
            (
                c.get("arguments")
                for c in response.get("tool_calls") or []
                if c.get("id") == e.data.get("call_id")
            ),
            None,
        )
        row["arguments"] = (raw or "")[:PREVIEW]
    return row


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > DATA_TEXT:
        return value[:DATA_TEXT] + f"… [{len(value) - DATA_TEXT:,} more characters]"
    return value


def _parsed(text: Any) -> dict[str, Any]:
    if not isinstance(text, str):
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _parsed_list(text: Any) -> list[Any]:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        return []
    return value if isinstance(value, list) else []
