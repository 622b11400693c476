"""Running the harness in tests: from Python, or through the real command line."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from opensage.bench.results import TaskResult
from opensage.bench.runner import LocalEngine, Settings, run_benchmark
from opensage.config import load_config


def run_bench(
    suite: Path, output: Path, agent: str = "oracle", *, parallel: int = 1, **options: object
) -> list[TaskResult]:
    """The harness from Python, with the test's OpenSage home."""
    config = load_config()
    settings = Settings(suite, output, config.home, agent, **options)  # type: ignore[arg-type]
    return asyncio.run(run_benchmark(settings, LocalEngine(parallel)))


def cli(
    *args: str, cwd: Path | None = None, timeout: float = 300, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`opensage ARGS` in a subprocess, with the test's environment."""
    proc = subprocess.run(
        [sys.executable, "-m", "opensage.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )
    if check and proc.returncode not in (0, 1):
        raise AssertionError(
            f"opensage {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def cli_json(*args: str, **kwargs: object) -> dict:
    proc = cli(*args, "--json", **kwargs)  # type: ignore[arg-type]
    return json.loads(proc.stdout)


def by_task(results: list[TaskResult]) -> dict[str, TaskResult]:
    return {r.task_id: r for r in results}


SLOW = """
import asyncio

class Slow:
    name = "slow"

    async def solve(self, task):
        with open({calls!r}, "a") as f:  # not from the environment: a Ray worker has its own
            f.write(task.task_id + "\\n")
        await asyncio.sleep(0.6)
        await task.exec("tr a-z A-Z < /data/words.txt > out.txt")
"""


def kill_midway_and_resume(tmp_path: Path, *options: str) -> None:
    """`opensage bench run` (with `options`) killed by SIGKILL after 3 of 8 tasks, then run
    again: every task ends with one result, and none that had one was run again."""
    from .fixtures import terminal_task

    suite = tmp_path / "suite"
    for i in range(8):
        terminal_task(suite, f"t{i}")
    calls, out = tmp_path / "calls.txt", tmp_path / "out"
    (tmp_path / "slow.py").write_text(SLOW.format(calls=str(calls)))
    env = {**os.environ, "COLUMNS": "200"}
    argv = [
        sys.executable, "-m", "opensage.cli", "bench", "run", str(suite),
        "--agent", f"{tmp_path}/slow.py:Slow", "--parallel", "2", "--output", str(out),
        "--json", *options,
    ]  # fmt: skip
    first = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    results = out / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if results.exists() and len(results.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    before = [json.loads(line)["task_id"] for line in results.read_text().splitlines()]
    assert 3 <= len(before) < 8, "the run was not killed midway"
    second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr
    data = json.loads(second.stdout)
    assert [e["task_id"] for e in data["results"]] == [f"t{i}" for i in range(8)]
    assert data["resolved"] == 8, [(e["task_id"], e["error"]) for e in data["results"]]
    after = [json.loads(line)["task_id"] for line in results.read_text().splitlines()]
    assert sorted(after) == [f"t{i}" for i in range(8)]  # each exactly once
    started = calls.read_text().split()
    for task in before:  # a task with a result was not run again
        assert started.count(task) == 1
    assert set(started) == set(after)
    assert f"resuming: {len(before)} of 8" in second.stderr
