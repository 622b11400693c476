"""The tool library: model-written tools kept under OPENSAGE_HOME, for this run and later ones.

Each tool keeps its source, schema, tests and provenance (which run and agent made it). Creating
a name again adds a version and keeps the old ones. Calls are counted, with their successes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opensage.core.db import open_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS tools (
    name        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    description TEXT NOT NULL,
    code        TEXT NOT NULL,
    schema      TEXT NOT NULL,
    tests       TEXT NOT NULL,
    created_run TEXT,
    created_by  TEXT,
    created_at  REAL NOT NULL,
    removed     INTEGER NOT NULL DEFAULT 0,
    calls       INTEGER NOT NULL DEFAULT 0,
    successes   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (name, version)
);
"""


@dataclass
class ToolRecord:
    name: str
    description: str
    code: str
    schema: dict[str, Any]
    tests: list[dict[str, Any]] = field(default_factory=list)
    created_run: str = ""
    created_by: str = ""
    created_at: float = field(default_factory=time.time)
    version: int = 0
    calls: int = 0
    successes: int = 0

    @property
    def success_rate(self) -> float | None:
        return self.successes / self.calls if self.calls else None

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "parameters": self.schema.get("properties", {}),
            "calls": self.calls,
            "success_rate": self.success_rate,
            "created_run": self.created_run,
        }


class ToolLibrary:
    def __init__(self, path: Path):
        self._db = open_db(path, SCHEMA)

    def add(self, record: ToolRecord) -> ToolRecord:
        row = self._db.execute(
            "SELECT MAX(version) FROM tools WHERE name = ?", (record.name,)
        ).fetchone()
        record.version = (row[0] or 0) + 1
        with self._db:
            self._db.execute(
                "INSERT INTO tools (name, version, description, code, schema, tests, "
                "created_run, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.name,
                    record.version,
                    record.description,
                    record.code,
                    json.dumps(record.schema),
                    json.dumps(record.tests),
                    record.created_run,
                    record.created_by,
                    record.created_at,
                ),
            )
        return record

    def get(self, name: str, version: int | None = None) -> ToolRecord | None:
        sql = "SELECT * FROM tools WHERE name = ? AND removed = 0"
        params: tuple[Any, ...] = (name,)
        if version is not None:
            sql += " AND version = ?"
            params = (name, version)
        row = self._db.execute(sql + " ORDER BY version DESC LIMIT 1", params).fetchone()
        return _record(row) if row else None

    def versions(self, name: str) -> list[ToolRecord]:
        rows = self._db.execute("SELECT * FROM tools WHERE name = ? ORDER BY version", (name,))
        return [_record(r) for r in rows]

    def search(self, query: str = "", limit: int = 20) -> list[ToolRecord]:
        """Latest versions whose name or description contain the query's words, best first."""
        words = query.lower().replace("_", " ").split()
        names = [
            r[0]
            for r in self._db.execute(
                "SELECT DISTINCT name FROM tools WHERE removed = 0 ORDER BY name"
            )
        ]
        scored = []
        for name in names:
            record = self.get(name)
            if record is None:
                continue
            text = f"{record.name.replace('_', ' ')} {record.description}".lower()
            hits = sum(w in text for w in words)
            if hits or not words:
                scored.append((-hits, -record.calls, record.name, record))
        return [s[-1] for s in sorted(scored)[:limit]]

    def record_call(self, name: str, version: int, ok: bool) -> None:
        with self._db:
            self._db.execute(
                "UPDATE tools SET calls = calls + 1, successes = successes + ? "
                "WHERE name = ? AND version = ?",
                (int(ok), name, version),
            )

    def remove(self, name: str) -> bool:
        with self._db:
            return (
                self._db.execute(
                    "UPDATE tools SET removed = 1 WHERE name = ? AND removed = 0", (name,)
                ).rowcount
                > 0
            )

    def close(self) -> None:
        self._db.close()


def _record(row: tuple[Any, ...]) -> ToolRecord:
    (name, version, description, code, schema, tests, run, by, at, _removed, calls, successes) = row
    return ToolRecord(
        name=name,
        description=description,
        code=code,
        schema=json.loads(schema),
        tests=json.loads(tests),
        created_run=run or "",
        created_by=by or "",
        created_at=at,
        version=version,
        calls=calls,
        successes=successes,
    )
