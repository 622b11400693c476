"""The viewer's reading of the libraries: the tools models wrote, the agents they created, and
the long-term memory. Read-only (see db.py): a search here counts no access and writes no
vector, unlike the store's own `search`.
"""

from __future__ import annotations

import json
import re
from collections import deque
from typing import Any

from opensage.ui.db import Home, PostgresReadOnly, ReadOnly

WORD = re.compile(r"[\w']+", re.UNICODE)
PREVIEW = 300
GRAPH_NODES = 40  # an entry's neighbourhood drawn: at most this many entries


def _like(word: str) -> str:
    return f"%{word.replace('%', '').replace('_', '')}%"


class Tools:
    def __init__(self, home: Home):
        self.db = home.tools
        self.events = home.events

    def listing(self, query: str = "", removed: bool = False) -> list[dict[str, Any]]:
        where, params = ["1"], []
        for word in query.split():
            where.append("(name LIKE ? OR description LIKE ?)")
            params += [_like(word)] * 2
        if not removed:
            where.append("removed = 0")
        rows = self.db.rows(
            f"SELECT name, MAX(version), SUM(calls), SUM(successes), MAX(created_at), "
            f"MIN(removed) FROM tools WHERE {' AND '.join(where)} GROUP BY name "
            f"ORDER BY MAX(created_at) DESC LIMIT 500",
            params,
        )
        out = []
        for name, version, calls, successes, created, gone in rows:
            latest = self.db.one(
                "SELECT description, created_run, created_by FROM tools "
                "WHERE name = ? AND version = ?",
                (name, version),
            )
            out.append(
                {
                    "name": name,
                    "version": version,
                    "versions": version,
                    "description": latest[0] if latest else "",
                    "calls": calls or 0,
                    "successes": successes or 0,
                    "success_rate": (successes / calls) if calls else None,
                    "created_at": created,
                    "created_run": latest[1] if latest else None,
                    "created_by": latest[2] if latest else None,
                    "removed": bool(gone),
                }
            )
        return out

    def get(self, name: str) -> dict[str, Any] | None:
        rows = self.db.rows(
            "SELECT name, version, description, code, schema, tests, "
            "created_run, created_by, created_at, removed, calls, successes "
            "FROM tools WHERE name = ? ORDER BY version DESC",
            (name,),
        )
        if not rows:
            return None
        versions = []
        for (
            name_,
            version,
            description,
            code,
            schema,
            tests,
            run,
            by,
            at,
            removed,
            calls,
            successes,
        ) in rows:
            versions.append(
                {
                    "version": version,
                    "description": description,
                    "code": code,
                    "schema": json.loads(schema),
                    "tests": json.loads(tests),
                    "created_run": run,
                    "created_by": by,
                    "created_at": at,
                    "removed": bool(removed),
                    "calls": calls,
                    "successes": successes,
                    "provenance": self._provenance(run, name_, version),
                }
            )
        return {
            "name": name,
            "versions": versions,
            "calls": sum(v["calls"] for v in versions),
            "successes": sum(v["successes"] for v in versions),
        }

    def _provenance(self, run: str | None, name: str, version: int) -> dict[str, Any]:
        """Where a version came from: its tool_created event, and the attempts the run's model
        made before it passed (tool_rejected: the stage and what failed)."""
        if not run:
            return {}
        rows = self.events.rows(
            "SELECT id, kind, agent, data FROM events WHERE run_id = ? AND kind IN "
            "('tool_created', 'tool_rejected') AND json_extract(data, '$.name') = ? ORDER BY id",
            (run, name),
        )
        created, rejected = None, []
        for event, kind, agent, data in rows:
            d = json.loads(data)
            if kind == "tool_created" and d.get("version") == version:
                created = {"event": event, "agent": agent, "tests": d.get("tests")}
                break
            if kind == "tool_rejected":
                rejected.append(
                    {
                        "event": event,
                        "agent": agent,
                        "stage": d.get("stage"),
                        "message": d.get("message"),
                    }
                )
            else:
                rejected = []  # attempts before an earlier version belong to that one
        return {"run": run, "created": created, "rejected": rejected}


class Agents:
    def __init__(self, home: Home):
        self.db = home.agents

    def listing(self) -> list[dict[str, Any]]:
        rows = self.db.rows(
            "SELECT name, version, data, retired FROM agents a WHERE version = "
            "(SELECT MAX(version) FROM agents WHERE name = a.name) ORDER BY name"
        )
        return [
            {**json.loads(data), "name": name, "version": version, "retired": bool(retired)}
            for name, version, data, retired in rows
        ]

    def get(self, name: str) -> dict[str, Any] | None:
        rows = self.db.rows(
            "SELECT version, data, retired FROM agents WHERE name = ? ORDER BY version DESC",
            (name,),
        )
        if not rows:
            return None
        return {
            "name": name,
            "versions": [{**json.loads(d), "version": v, "retired": bool(r)} for v, d, r in rows],
        }


ENTRY = (
    "id, kind, text, context, metadata, scope, created, superseded_by, source_run, "
    "source_event, accessed"
)


# ts_rank's weights are for D, C, B, A: the context (D) counts 0.3 of the text (A), as the
# store's own search weighs them.
PG_RANK = "ts_rank('{0.3, 0, 0, 1}', e.search, q)"


class Memory:
    """The long-term memory, on SQLite (FTS5) or PostgreSQL (tsvector), whichever the home's
    configuration names."""

    def __init__(self, home: Home):
        self.db: ReadOnly | PostgresReadOnly = home.memory
        self.location = home.memory_location
        self.events = home.events

    def search(
        self, query: str = "", k: int = 50, kind: str | None = None, superseded: bool = False
    ) -> list[dict[str, Any]]:
        """Entries matching any of the query's words, best first (BM25 over text and, weighted
        less, context), or the newest entries for no query."""
        k = max(1, min(k, 200))
        filters, params = [], []
        if kind:
            filters.append("e.kind = ?")
            params.append(kind)
        if not superseded:
            filters.append("e.superseded_by IS NULL")
        words = [w.lower().strip("'") for w in WORD.findall(query) if w.strip("'")]
        columns = ", ".join(f"e.{c}" for c in ENTRY.split(", "))
        where = " AND ".join(filters)
        if not words:
            rows = self.db.rows(
                f"SELECT {columns}, 0 FROM entries e "
                f"{'WHERE ' + where if where else ''} ORDER BY e.id DESC LIMIT ?",
                [*params, k],
            )
        elif self.db.postgres:
            lexemes = [w for w in re.findall(r"[a-z0-9_]+", " ".join(words))]
            rows = (
                self.db.rows(
                    f"SELECT {columns}, {PG_RANK} FROM entries e, to_tsquery('english', ?) AS q "
                    f"WHERE e.search @@ q {'AND ' + where if where else ''} ORDER BY {PG_RANK} "
                    f"DESC LIMIT ?",
                    [" | ".join(lexemes) or "''", *params, k],
                )
                if lexemes
                else []
            )
        else:
            match = " OR ".join('"' + w.replace('"', '""') + '"' for w in dict.fromkeys(words))
            rows = self.db.rows(
                f"SELECT {columns}, -bm25(entries_fts, 1.0, 0.3) FROM entries_fts "
                f"JOIN entries e ON e.id = entries_fts.rowid WHERE entries_fts MATCH ? "
                f"{'AND ' + where if where else ''} ORDER BY bm25(entries_fts, 1.0, 0.3) LIMIT ?",
                [match, *params, k],
            )
        return [{**_entry(r[:-1]), "score": round(float(r[-1] or 0), 4)} for r in rows]

    def get(self, entry_id: int) -> dict[str, Any] | None:
        row = self.db.one(f"SELECT {ENTRY} FROM entries WHERE id = ?", (entry_id,))
        if row is None:
            return None
        entry = _entry(row, whole=True)
        entry["links"] = [
            {"direction": d, "type": t, **self._brief(other)}
            for d, t, other in self._links(entry_id)
        ]
        entry["provenance"] = self._provenance(entry)
        entry["graph"] = self.graph(entry_id)
        return entry

    def _links(self, entry_id: int) -> list[tuple[str, str, int]]:
        rows = self.db.rows(
            "SELECT 'out', type, dst FROM links WHERE src = ? UNION ALL "
            "SELECT 'in', type, src FROM links WHERE dst = ?",
            (entry_id, entry_id),
        )
        return [(r[0], r[1], int(r[2])) for r in rows]

    def _brief(self, entry_id: int) -> dict[str, Any]:
        row = self.db.one(
            "SELECT id, kind, text, superseded_by FROM entries WHERE id = ?", (entry_id,)
        )
        if row is None:
            return {"id": entry_id, "kind": None, "text": None, "superseded_by": None}
        return {
            "id": int(row[0]),
            "kind": row[1],
            "text": row[2][:PREVIEW],
            "superseded_by": row[3],
        }

    def graph(self, entry_id: int) -> dict[str, Any]:
        """The entry's neighbourhood: entries within two links, at most GRAPH_NODES, and the
        links between them."""
        depth = {entry_id: 0}
        edges: set[tuple[int, int, str]] = set()
        queue = deque([entry_id])
        while queue:
            current = queue.popleft()
            if depth[current] >= 2:
                continue
            for direction, kind, other in self._links(current):
                if other not in depth:
                    if len(depth) >= GRAPH_NODES:
                        continue
                    depth[other] = depth[current] + 1
                    queue.append(other)
                src, dst = (current, other) if direction == "out" else (other, current)
                edges.add((src, dst, kind))
        nodes = [{**self._brief(i), "depth": d} for i, d in depth.items()]
        return {
            "nodes": nodes,
            "edges": [
                {"src": s, "dst": d, "type": t}
                for s, d, t in sorted(edges)
                if s in depth and d in depth
            ],
        }

    def _provenance(self, entry: dict[str, Any]) -> dict[str, Any] | None:
        run, event = entry.get("source_run"), entry.get("source_event")
        if not run:
            return None
        found: dict[str, Any] = {"run": run, "event": event, "task": None, "kind": None}
        start = self.events.one(
            "SELECT json_extract(data, '$.task') FROM events WHERE "
            "run_id = ? AND kind = 'run_started'",
            (run,),
        )
        if start is not None:
            found["task"] = start[0]
        if event is not None:
            row = self.events.one(
                "SELECT kind, agent FROM events WHERE run_id = ? AND id = ?", (run, event)
            )
            if row is not None:
                found["kind"], found["agent"] = row
        return found

    def stats(self) -> dict[str, Any]:
        total = self.db.one("SELECT COUNT(*), COUNT(superseded_by) FROM entries")
        links = self.db.one("SELECT COUNT(*) FROM links")
        kinds = self.db.rows(
            "SELECT kind, COUNT(*) FROM entries WHERE superseded_by IS NULL "
            "GROUP BY kind ORDER BY kind"
        )
        return {
            "entries": int(total[0]) if total else 0,
            "superseded": int(total[1]) if total else 0,
            "links": int(links[0]) if links else 0,
            "by_kind": {k: int(n) for k, n in kinds},
        }


def _entry(row: Any, whole: bool = False) -> dict[str, Any]:
    out = dict(zip(ENTRY.split(", "), row, strict=True))
    if not isinstance(out["metadata"], dict):  # JSONB comes decoded, SQLite's text does not
        try:
            out["metadata"] = json.loads(out["metadata"] or "{}")
        except ValueError:
            out["metadata"] = {}
    out["id"], out["created"] = int(out["id"]), float(out["created"])
    if not whole:
        out["text"] = out["text"][:2000]
        out.pop("context")
    return out
