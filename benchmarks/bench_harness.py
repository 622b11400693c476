"""What the benchmark harness costs per task, and what running tasks at once gains.

The oracle agent on tiny tasks (written here, in the harness's layouts): terminal tasks (bwrap,
a one-line solve.sh and test.sh: nearly all of their time is the harness's: preparing the
environment, three sandboxes, reading the reward, the results file) and SWE tasks (a copy of
a small repository, git in the sandbox for the patch, pytest on the tests: their time is the
sandbox's). Each suite runs serially and with --parallel 4 in the same run, from empty output
dirs; the table gives the wall time per task and the speed-up (target: >= 1.7x on two cores for
the sandbox-bound SWE tasks). Writes benchmarks/results/bench_harness.json.

    .venv/bin/python benchmarks/bench_harness.py [--tasks 12]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' task fixtures

from tests.bench.fixtures import swe_task, terminal_task

from opensage.bench.runner import LocalEngine, Settings, run_benchmark

RESULTS = Path(__file__).parent / "results"
TARGET = 1.7


def make_suite(root: Path, kind: str, n: int) -> Path:
    suite = root / f"suite-{kind}"
    for i in range(n):
        (terminal_task if kind == "terminal" else swe_task)(suite, f"{kind}-{i:02d}")
    return suite


async def run(suite: Path, output: Path, home: Path, parallel: int) -> dict[str, Any]:
    settings = Settings(suite, output, home, "oracle")
    started = time.perf_counter()
    results = await run_benchmark(settings, LocalEngine(parallel))
    wall = time.perf_counter() - started
    assert all(r.resolved and r.error is None for r in results), [r for r in results
                                                                   if not r.resolved]
    n = len(results)
    return {"tasks": n, "wall_s": wall, "per_task_ms": 1000 * wall / n,
            "agent_ms": 1000 * statistics.mean(r.agent_s for r in results),
            "verify_ms": 1000 * statistics.mean(r.verify_s for r in results),
            "prepare_ms": 1000 * statistics.mean(r.wall_s - r.agent_s - r.verify_s
                                                 for r in results)}


async def main(tasks: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="opensage-bench-harness-"))
    home = root / "home"
    os.environ["OPENSAGE_HOME"] = str(home)
    rows = []
    try:
        for kind in ("terminal", "swe"):
            suite = make_suite(root, kind, tasks)
            await run(suite, root / f"warm-{kind}", home, 1)  # caches, the first sandbox
            serial = await run(suite, root / f"{kind}-1", home, 1)
            parallel = await run(suite, root / f"{kind}-4", home, 4)
            rows.append({"kind": kind, "serial": serial, "parallel_4": parallel,
                         "speedup": serial["wall_s"] / parallel["wall_s"]})
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"{'tasks':<14} | {'serial ms/task':>14} | {'  prepare':>9} | {'agent':>6} | "
          f"{'verify':>6} | {'--parallel 4 ms/task':>20} | {'speed-up':>8}")
    print("-" * 94)
    for r in rows:
        s, p = r["serial"], r["parallel_4"]
        print(f"{r['kind'] + ' x' + str(s['tasks']):<14} | {s['per_task_ms']:>14.0f} | "
              f"{s['prepare_ms']:>9.0f} | {s['agent_ms']:>6.0f} | {s['verify_ms']:>6.0f} | "
              f"{p['per_task_ms']:>20.0f} | {r['speedup']:>7.2f}x")
    print(f"\n{os.cpu_count()} cores; target: --parallel 4 at least {TARGET}x faster than "
          "serial on the sandbox-bound (SWE) tasks")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bench_harness.json").write_text(json.dumps(
        {"cores": os.cpu_count(), "target_speedup": TARGET, "rows": rows}, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=12, help="tasks of each kind")
    asyncio.run(main(parser.parse_args().tasks))
