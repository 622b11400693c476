"""The task model every kind shares, and the checks its loaders use.

A task is a folder; its kind is told by what it holds (see `suite.kind_of`):
- terminal (Harbor / Terminal-Bench 2.0): task.toml, instruction.md, environment/Dockerfile,
  tests/test.sh, solution/solve.sh;
- swe (SWE-bench): instance.json and repo/;
- poc (CyberGym): task.toml with [build] and [poc], repo-vul.tar.gz (or a repo-vul/ folder),
  description.txt, error.txt, repo-fix.tar.gz (or repo-fix/), patch.diff, solution/poc.
A task that cannot be read is a `MalformedTask` naming the file and what is wrong with it:
the suite skips it, runs the rest, and reports it as an error of kind "malformed".
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KINDS = ("terminal", "swe", "poc")
AGENT_TIMEOUT_S = 1800.0  # where a task names none
VERIFIER_TIMEOUT_S = 900.0
MAX_TEXT_BYTES = 4 << 20  # an instruction, a problem statement, a description


class MalformedTask(Exception):
    """A task folder that cannot be run as it is: which file, and what is wrong."""

    def __init__(self, path: Path, file: str, problem: str):
        super().__init__(f"{file}: {problem}")
        self.path = path
        self.file = file
        self.problem = problem


@dataclass
class Task:
    """What every kind has: an id (the folder's name), its folder, what the agent is told, and
    how long the agent and the verification may take."""

    id: str
    kind: str
    path: Path
    prompt: str
    agent_timeout_s: float = AGENT_TIMEOUT_S
    verifier_timeout_s: float = VERIFIER_TIMEOUT_S


@dataclass
class Broken:
    """A task folder that could not be loaded; reported, never run."""

    id: str
    path: Path
    kind: str | None
    error: MalformedTask

    @property
    def message(self) -> str:
        return f"{self.id}: {self.error}"


def read_toml(path: Path, name: str = "task.toml") -> dict[str, Any]:
    file = path / name
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MalformedTask(path, name, "missing") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MalformedTask(path, name, f"not valid TOML ({exc})") from None


def read_json(path: Path, name: str) -> dict[str, Any]:
    file = path / name
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MalformedTask(path, name, "missing") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedTask(path, name, f"not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise MalformedTask(path, name, f"must hold a JSON object, not {type(data).__name__}")
    return data


def read_text(path: Path, name: str, *, required: bool = True) -> str | None:
    """A text file of the task (None when it is optional and missing)."""
    file = path / name
    if not file.is_file():
        if required:
            raise MalformedTask(path, name, "missing" if not file.exists() else "not a file")
        return None
    if file.stat().st_size > MAX_TEXT_BYTES:
        raise MalformedTask(path, name, f"larger than {MAX_TEXT_BYTES >> 20} MB")
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedTask(path, name, f"not UTF-8 text ({exc})") from None


def table(
    data: dict[str, Any], key: str, path: Path, name: str = "task.toml", *, required: bool = False
) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        if required:
            raise MalformedTask(path, name, f"has no [{key}] table")
        return {}
    if not isinstance(value, dict):
        raise MalformedTask(path, name, f"[{key}] must be a table, not {type(value).__name__}")
    return value


def seconds(section: dict[str, Any], key: str, default: float, path: Path, where: str) -> float:
    """A positive number of seconds (`where` names the table, e.g. "task.toml [agent]")."""
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        file, _, part = where.partition(" ")
        raise MalformedTask(
            path, file, f"{part} {key} must be a positive number of seconds, not {value!r}".strip()
        )
    return float(value)


def string(
    section: dict[str, Any], key: str, path: Path, where: str, *, default: str | None = None
) -> str:
    value = section.get(key, default)
    if not isinstance(value, str) or not value.strip():
        file, _, part = where.partition(" ")
        what = "is missing" if value is None else f"must be a non-empty string, not {value!r}"
        raise MalformedTask(path, file, f"{part} {key} {what}".strip())
    return value


def strings(value: Any, path: Path, file: str, key: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedTask(path, file, f"{key} must be a list of strings, not {value!r}")
    return list(value)


def timeouts(data: dict[str, Any], path: Path) -> tuple[float, float]:
    """[agent] timeout_sec and [verifier] timeout_sec of a task.toml (Harbor's fields)."""
    agent = table(data, "agent", path)
    verifier = table(data, "verifier", path)
    return (
        seconds(agent, "timeout_sec", AGENT_TIMEOUT_S, path, "task.toml [agent]"),
        seconds(verifier, "timeout_sec", VERIFIER_TIMEOUT_S, path, "task.toml [verifier]"),
    )
