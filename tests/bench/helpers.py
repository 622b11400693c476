"""Running the harness in tests: from Python, or through the real command line."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
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
