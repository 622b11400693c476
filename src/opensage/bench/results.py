"""Results: one JSON line per attempt, appended (and synced) as each attempt ends, so that an
interrupted benchmark resumes where it stopped; the benchmark's description beside them; the
SWE predictions; the totals; and the comparison of two result sets.

An output dir holds `bench.json` (the suite, agent, model and level it is for), `results.jsonl`,
`predictions.jsonl` (SWE tasks' first attempts; `predictions.K.jsonl` for attempt K >= 1),
`logs/` (what each attempt's preparation, agent and verification said) and `cache/`.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from opensage.errors import ConfigError

RESULTS = "results.jsonl"
META = "bench.json"
ERROR_KINDS = ("malformed", "infra", "agent", "timeout", "verifier")
SAME_RUN = ("suite", "agent", "model", "level")  # what resuming into a folder must match


@dataclass
class TaskResult:
    task_id: str
    kind: str | None
    attempt: int = 0
    resolved: bool = False
    # {"kind": one of ERROR_KINDS, "message": ...}: malformed task, infrastructure (after its
    # retries), the agent raised, the agent ran out of time, the verification itself failed.
    error: dict[str, str] | None = None
    backend: str | None = None  # the sandbox backend the task ran in
    notes: list[str] = field(default_factory=list)
    reward: float | None = None
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    wall_s: float = 0.0
    agent_s: float = 0.0
    verify_s: float = 0.0
    retries: int = 0
    run_id: str | None = None
    agent: str | None = None
    model: str | None = None
    log: str | None = None  # the attempt's log file, relative to the output dir
    instance_id: str | None = None  # an SWE task's, as its prediction names it
    prediction: dict[str, Any] | None = field(default=None, repr=False)  # not in the line

    @property
    def key(self) -> tuple[str, int]:
        return self.task_id, self.attempt

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        del data["prediction"]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskResult:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def error(kind: str, message: str) -> dict[str, str]:
    assert kind in ERROR_KINDS
    return {"kind": kind, "message": message}


class ResultsFile:
    """results.jsonl of an output dir: read once at the start (a line cut short by a killed
    process is dropped), then appended one whole line at a time, synced to disk."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / RESULTS

    def load(self, *, repair: bool = True) -> list[TaskResult]:
        """The results so far; a last line cut short is dropped (and, with `repair`, cut off
        the file, so that the next line appended starts on a line of its own)."""
        if not self.path.exists():
            return []
        raw = self.path.read_bytes()
        if raw and not raw.endswith(b"\n"):  # the last write was cut: it never happened
            raw = raw[: raw.rfind(b"\n") + 1]
            if repair:
                with self.path.open("r+b") as f:
                    f.truncate(len(raw))
        results = []
        for number, line in enumerate(raw.decode(errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            try:
                results.append(TaskResult.from_dict(json.loads(line)))
            except (ValueError, TypeError) as exc:
                raise ConfigError(
                    f"{self.path} line {number} is not a result ({exc}); fix or "
                    "remove that line, or use another --output"
                ) from None
        return results

    def append(self, result: TaskResult) -> None:
        line = json.dumps(result.to_dict(), ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)


def predictions_path(folder: Path, attempt: int) -> Path:
    return folder / ("predictions.jsonl" if attempt == 0 else f"predictions.{attempt}.jsonl")


def write_prediction(folder: Path, result: TaskResult) -> None:
    if result.prediction is None:
        return
    row = {
        "instance_id": result.prediction["instance_id"],
        "model_name_or_path": result.model or result.agent or "opensage",
        "model_patch": result.prediction["model_patch"],
    }
    with predictions_path(folder, result.attempt).open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def prune_predictions(folder: Path, done: list[TaskResult]) -> None:
    """Drop predictions whose attempt has no result line (it was cut off and runs again)."""
    kept = {(r.instance_id, r.attempt) for r in done if r.instance_id}
    for path in folder.glob("predictions*.jsonl"):
        attempt = 0 if path.name == "predictions.jsonl" else int(path.name.split(".")[1])
        lines = [
            ln
            for ln in path.read_text(encoding="utf-8").splitlines(keepends=True)
            if ln.endswith("\n") and (_instance(ln), attempt) in kept
        ]
        path.write_text("".join(lines), encoding="utf-8")


def _instance(line: str) -> str | None:
    try:
        value = json.loads(line).get("instance_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def check_meta(folder: Path, meta: dict[str, Any]) -> None:
    """Write bench.json, or check that the folder holds results of this same benchmark."""
    path = folder / META
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except ValueError:
            old = {}
        differ = [k for k in SAME_RUN if old.get(k) != meta.get(k)]
        if differ:
            what = ", ".join(f"{k} {old.get(k)!r} (now {meta.get(k)!r})" for k in differ)
            raise ConfigError(
                f"{folder} holds results of another benchmark ({what}); give "
                "another --output, or remove that folder to start over"
            )
        meta = {**old, "repeat": max(old.get("repeat", 1), meta.get("repeat", 1))}
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(meta, indent=2) + "\n")


def read_results(path: Path) -> tuple[dict[str, Any], list[TaskResult]]:
    """An output dir (or its results.jsonl): the benchmark's description and its results."""
    folder = path if path.is_dir() else path.parent
    results = ResultsFile(folder)
    if not path.is_dir():
        results.path = path
    if not results.path.exists():
        raise ConfigError(f"{path} holds no {RESULTS}: give a benchmark's output dir")
    meta_path = folder / META
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return meta, results.load(repair=False)


def summary(results: list[TaskResult], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `--json` object: totals, then one entry per attempt."""
    total = len(results)
    resolved = sum(r.resolved for r in results)
    errors = Counter(r.error["kind"] for r in results if r.error)
    return {
        **{k: (meta or {}).get(k) for k in ("suite", "agent", "model", "level")},
        "total": total,
        "resolved": resolved,
        "score": round(resolved / total, 4) if total else 0.0,
        "errors": dict(errors),
        "steps": sum(r.steps for r in results),
        "tokens": sum(r.tokens for r in results),
        "cost_usd": round(sum(r.cost_usd for r in results), 6),
        "wall_s": round(sum(r.wall_s for r in results), 3),
        "results": [r.to_dict() for r in sorted(results, key=lambda r: r.key)],
    }


@dataclass
class Comparison:
    rows: list[tuple[str, str | None, str | None, str]]  # task, A, B, flip mark
    totals: tuple[dict[str, Any], dict[str, Any]]
    gained: list[str]  # resolved in B and not in A
    lost: list[str]


def compare(a: list[TaskResult], b: list[TaskResult]) -> Comparison:
    """Per task: resolved attempts of each set ("2/3"), and the tasks that flipped (resolved
    by most attempts in one set and not the other)."""

    def per_task(results: list[TaskResult]) -> dict[str, tuple[int, int]]:
        counts: dict[str, tuple[int, int]] = {}
        for r in results:
            won, n = counts.get(r.task_id, (0, 0))
            counts[r.task_id] = (won + r.resolved, n + 1)
        return counts

    ta, tb = per_task(a), per_task(b)
    rows, gained, lost = [], [], []
    for task in sorted(set(ta) | set(tb)):
        sa, sb = ta.get(task), tb.get(task)
        mark = ""
        if sa is not None and sb is not None:
            was, now = 2 * sa[0] > sa[1], 2 * sb[0] > sb[1]
            if now and not was:
                mark = "+"
                gained.append(task)
            elif was and not now:
                mark = "-"
                lost.append(task)
        rows.append((task, _fraction(sa), _fraction(sb), mark))
    return Comparison(rows, (summary(a), summary(b)), gained, lost)


def _fraction(counts: tuple[int, int] | None) -> str | None:
    return None if counts is None else f"{counts[0]}/{counts[1]}"
