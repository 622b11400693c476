"""What calling a model-written tool costs, and what creating one costs.

Latency of a trivial synthesized tool (it adds two numbers) called through the sandbox, cold
(the first call of a process: the sandbox is opened and probed) and warm, next to calling the same
function in-process; and the time create_tool takes to check and test a tool with 3 tests.
Prints a table and writes benchmarks/results/tool_calls.json.

    .venv/bin/python benchmarks/tool_calls.py [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
CODE = "def main(a: int, b: int) -> int:\n    '''Add two integers.'''\n    return a + b\n"
TESTS = [
    {"args": {"a": 1, "b": 2}, "expect": 3},
    {"args": {"a": 0, "b": 0}, "expect": 0},
    {"args": {"a": -5, "b": 5}, "check": "result == 0"},
]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))]


async def calls(runs: int, workdir: Path) -> dict[str, float]:
    from opensage.config import load_config
    from opensage.runtime import run_sandbox
    from opensage.synthesis.runner import ToolRunner

    config = load_config()
    runner = ToolRunner(lambda: run_sandbox(config), workdir, config.sandbox_limits)
    started = time.perf_counter()
    first = await runner.call(CODE, {"a": 1, "b": 2})
    cold = time.perf_counter() - started
    assert first.ok and first.data["value"] == 3, first
    warm = []
    for i in range(runs):
        started = time.perf_counter()
        result = await runner.call(CODE, {"a": i, "b": 1})
        warm.append(time.perf_counter() - started)
        assert result.data["value"] == i + 1
    space: dict[str, object] = {}
    exec(CODE, space)  # the baseline: our own trusted copy of the code, called in-process
    main = space["main"]
    in_process = []
    for i in range(runs):
        started = time.perf_counter()
        main(i, 1)  # type: ignore[operator]
        in_process.append(time.perf_counter() - started)
    return {
        "cold_ms": cold * 1000,
        "warm_p50_ms": statistics.median(warm) * 1000,
        "warm_p95_ms": percentile(warm, 0.95) * 1000,
        "in_process_p50_ms": statistics.median(in_process) * 1000,
    }


def create_time(workdir: Path, runs: int = 5) -> float:
    """Median seconds create_tool took (signature, import check, 3 tests in the sandbox)."""
    from opensage import Agent
    from opensage.config import load_config
    from opensage.core.events import EventLog
    from opensage.models.scripted import ScriptedModel

    step = {
        "tool_calls": [
            {
                "name": "create_tool",
                "arguments": {"name": "add", "description": "adds", "code": CODE, "tests": TESTS},
            }
        ]
    }
    took = []
    for _ in range(runs):
        result = Agent("bench", model=ScriptedModel([step, "done"]), kits=["synthesis"]).run_sync(
            "go", workdir=workdir
        )
        (event,) = EventLog.open(load_config().events_path).events(result.run_id, ("tool_result",))
        assert event.data["ok"], event
        took.append(event.data["duration_s"])
    return statistics.median(took)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    runs = parser.parse_args().runs
    os.environ["OPENSAGE_HOME"] = tempfile.mkdtemp(prefix="opensage-bench-")
    workdir = Path(tempfile.mkdtemp(prefix="opensage-bench-work-"))
    timing = asyncio.run(calls(runs, workdir))
    create_s = create_time(workdir)
    print(f"{'measure':<40} | {'value':>10}")
    print("-" * 54)
    print(f"{'in-process call (baseline), p50':<40} | {timing['in_process_p50_ms']:>8.4f}ms")
    print(f"{'synthesized call, cold':<40} | {timing['cold_ms']:>8.1f}ms")
    print(f"{'synthesized call, warm p50':<40} | {timing['warm_p50_ms']:>8.1f}ms")
    print(f"{'synthesized call, warm p95':<40} | {timing['warm_p95_ms']:>8.1f}ms")
    print(f"{'create_tool with 3 tests':<40} | {create_s * 1000:>8.1f}ms")
    print("\ntarget: a warm call < 50 ms p50 on bwrap")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "tool_calls.json").write_text(
        json.dumps({**timing, "create_ms": create_s * 1000}, indent=2)
    )


if __name__ == "__main__":
    main()
