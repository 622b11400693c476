"""The agent library: every agent a model created, kept under OPENSAGE_HOME for later runs.

Re-creating a name with a different definition makes a new version (the old one is kept);
retiring an agent hides it from `run_agent` until it is created again.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from opensage.core.db import open_db

SCHEMA = """
CREATE TABLE IF NOT EXISTS agents (
    name     TEXT NOT NULL,
    version  INTEGER NOT NULL,
    data     TEXT NOT NULL,
    retired  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (name, version)
);
"""


@dataclass
class AgentSpec:
    name: str
    instructions: str
    tools: list[str]
    model: str | None = None  # None: the model of the agent that runs it
    description: str = ""
    created_run: str = ""
    created_by: str = ""
    created_at: float = field(default_factory=time.time)
    version: int = 1
    retired: bool = False

    def same_definition(self, other: AgentSpec) -> bool:
        return (self.instructions, sorted(self.tools), self.model, self.description) == (
            other.instructions,
            sorted(other.tools),
            other.model,
            other.description,
        )

    def summary(self) -> dict[str, object]:
        return {
            "name": self.name,
            "description": self.description,
            "tools": self.tools,
            "model": self.model or "(the caller's)",
            "version": self.version,
            "created_run": self.created_run,
            "retired": self.retired,
        }


class AgentLibrary:
    def __init__(self, path: Path):
        self._db = open_db(path, SCHEMA)

    def get(self, name: str) -> AgentSpec | None:
        row = self._db.execute(
            "SELECT data, version, retired FROM agents WHERE name = ? "
            "ORDER BY version DESC LIMIT 1",
            (name,),
        ).fetchone()
        if row is None:
            return None
        spec = AgentSpec(**json.loads(row[0]))
        spec.version, spec.retired = row[1], bool(row[2])
        return spec

    def save(self, spec: AgentSpec) -> AgentSpec:
        """Store `spec` as the name's next version (or revive an identical retired one)."""
        current = self.get(spec.name)
        if current is not None and current.same_definition(spec):
            if current.retired:
                with self._db:
                    self._db.execute(
                        "UPDATE agents SET retired = 0 WHERE name = ? AND version = ?",
                        (spec.name, current.version),
                    )
                current.retired = False
            return current
        spec.version = current.version + 1 if current else 1
        data = {k: v for k, v in asdict(spec).items() if k not in ("version", "retired")}
        with self._db:
            self._db.execute(
                "INSERT INTO agents (name, version, data) VALUES (?, ?, ?)",
                (spec.name, spec.version, json.dumps(data)),
            )
        return spec

    def retire(self, name: str) -> bool:
        with self._db:
            done = self._db.execute(
                "UPDATE agents SET retired = 1 WHERE name = ? AND retired = 0", (name,)
            ).rowcount
        return done > 0

    def search(
        self, query: str = "", limit: int = 50, include_retired: bool = False
    ) -> list[AgentSpec]:
        """Latest versions whose name, description or instructions contain every word."""
        names = [r[0] for r in self._db.execute("SELECT DISTINCT name FROM agents ORDER BY name")]
        words = query.lower().split()
        found = []
        for name in names:
            spec = self.get(name)
            if spec is None or (spec.retired and not include_retired):
                continue
            text = f"{spec.name} {spec.description} {spec.instructions}".lower()
            if all(w in text for w in words):
                found.append(spec)
        return found[:limit]

    def close(self) -> None:
        self._db.close()
