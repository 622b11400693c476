"""What the agent loop costs per step, beyond the model and the tools.

Runs of 10, 50 and 200 tool calls against a zero-latency scripted model with the event log on
(a real SQLite file), next to a bare asyncio loop that makes the same model and tool calls in the
same run. Each size runs in a fresh process, so peak memory is that run's. Prints a table and
writes benchmarks/results/loop_overhead.json.

    .venv/bin/python benchmarks/loop_overhead.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SIZES = (10, 50, 200)
_NOOP: Any = None
RESULTS = Path(__file__).parent / "results"


def worker(steps: int, repeat: int, bare: bool) -> dict[str, float]:
    """Measure in this process; return medians per step in microseconds, and peak RSS."""
    if bare:
        run = _bare_run
    else:
        import os

        os.environ["OPENSAGE_HOME"] = tempfile.mkdtemp(prefix="opensage-bench-")
        run = _agent_run
    run(10)  # warm up: imports, the schema cache, SQLite's first pages
    walls, cpus = [], []
    for _ in range(repeat):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        run(steps)
        walls.append(time.perf_counter() - wall0)
        cpus.append(time.process_time() - cpu0)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "wall_us": statistics.median(walls) / steps * 1e6,
        "cpu_us": statistics.median(cpus) / steps * 1e6,
        "peak_mb": peak_kb / 1024,
    }


async def _noop(i: int) -> str:
    """Do nothing."""
    return "ok"


def _agent_run(steps: int) -> None:
    """A whole run as a user makes one: build the agent, run it, read the result. The tool is
    defined once, as users define theirs."""
    from opensage import Agent, Tool
    from opensage.models import ScriptedModel
    from opensage.models.base import Message, ModelResponse, ToolCall

    global _NOOP
    _NOOP = _NOOP or Tool(_noop, name="noop")
    replies = [
        ModelResponse(
            Message("assistant", tool_calls=(ToolCall(f"c{i}", "noop", f'{{"i": {i}}}'),))
        )
        for i in range(steps - 1)
    ]
    replies.append(
        ModelResponse(
            Message("assistant", tool_calls=(ToolCall("end", "finish", '{"answer": "done"}'),))
        )
    )
    result = Agent(
        "bench", model=ScriptedModel(replies), tools=[_NOOP], max_steps=steps + 1
    ).run_sync("go")
    assert result.ok and result.steps == steps, result


def _bare_run(steps: int) -> None:
    """The floor: an asyncio loop awaiting a model stub and a tool, keeping a message list."""

    async def model(i: int) -> dict[str, object]:
        return {"role": "assistant", "tool_call": {"name": "noop", "arguments": f'{{"i": {i}}}'}}

    async def noop(i: int) -> str:
        return "ok"

    async def loop() -> None:
        history: list[dict[str, object]] = [{"role": "user", "content": "go"}]
        for i in range(steps):
            reply = await model(i)
            history.append(reply)
            args = json.loads(reply["tool_call"]["arguments"])  # type: ignore[index]
            history.append({"role": "tool", "content": await noop(**args)})

    asyncio.run(loop())


def import_time(repeat: int = 5) -> float:
    code = "import time; t = time.perf_counter(); import opensage; print(time.perf_counter() - t)"
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeat)
    ]
    return statistics.median(runs)


def measure(steps: int, repeat: int, bare: bool) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--worker", str(steps), "--repeat", str(repeat)]
    out = subprocess.run(
        cmd + (["--bare"] if bare else []), capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--worker", type=int)
    parser.add_argument("--bare", action="store_true")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.repeat, args.bare)))
        return

    rows = []
    for steps in SIZES:
        agent, bare = measure(steps, args.repeat, False), measure(steps, args.repeat, True)
        rows.append(
            {
                "steps": steps,
                "agent": agent,
                "bare": bare,
                "cpu_ratio": agent["cpu_us"] / bare["cpu_us"],
            }
        )
    imported = import_time()

    print(
        f"{'steps':>5} | {'wall µs/step':>12} | {'CPU µs/step':>11} | {'peak MB':>7} | "
        f"{'bare wall':>9} | {'bare CPU':>8} | {'bare MB':>7} | {'CPU vs bare':>11}"
    )
    print("-" * 96)
    for r in rows:
        a, b = r["agent"], r["bare"]
        print(
            f"{r['steps']:>5} | {a['wall_us']:>12.1f} | {a['cpu_us']:>11.1f} | "
            f"{a['peak_mb']:>7.1f} | {b['wall_us']:>9.1f} | {b['cpu_us']:>8.1f} | "
            f"{b['peak_mb']:>7.1f} | {r['cpu_ratio']:>10.1f}x"
        )
    # Each run pays a fixed setup (asyncio.run, config, the final durable commit) that the average
    # spreads over its steps; the slope between sizes is what one more step costs.
    slopes = [
        (b["steps"] * b["agent"]["cpu_us"] - a["steps"] * a["agent"]["cpu_us"])
        / (b["steps"] - a["steps"])
        for a, b in itertools.pairwise(rows)
    ]
    fixed = rows[0]["agent"]["cpu_us"] * rows[0]["steps"] - slopes[0] * rows[0]["steps"]
    flat = slopes[-1] / slopes[0]
    print(
        f"\nCPU of one more step: {slopes[0]:.1f} µs (10->50 steps), {slopes[1]:.1f} µs "
        f"(50->200 steps): {flat:.2f}x (1.0 = flat)"
    )
    print(f"fixed CPU per run (setup and final commit): {fixed / 1000:.2f} ms")
    print(f"import opensage: {imported * 1000:.0f} ms")
    print("targets: < 100 µs/step, flat from 10 to 200, peak < 50 MB, import < 300 ms")

    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "loop_overhead.json").write_text(
        json.dumps(
            {
                "rows": rows,
                "import_s": imported,
                "marginal_cpu_us": slopes,
                "fixed_cpu_us": fixed,
                "flatness": flat,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
