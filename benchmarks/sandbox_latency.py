"""What a sandbox adds to running a command.

p50/p95 latency of `true` and of `python3 -c pass` through each available backend, next to a
bare subprocess (no sandbox) measured in the same run. Prints a table and writes
benchmarks/results/sandbox_latency.json.

    .venv/bin/python benchmarks/sandbox_latency.py [--runs 50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from opensage.sandbox import SandboxLimits, SandboxUnavailable, open_sandbox

RESULTS = Path(__file__).parent / "results"
# The same interpreter for the bare run and the host-based backends (a `python3` found on PATH
# may be a shim script that costs more than the sandbox); the container has its own python3.
COMMANDS = {"true": ["true"], "python3 -c pass": [sys.executable, "-c", "pass"]}


async def bare(argv: list[str], workdir: Path) -> None:
    proc = await asyncio.create_subprocess_exec(*argv, cwd=workdir)
    await proc.wait()


async def measure(run, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    await run()  # warm up: caches, the first namespace or container setup
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await run()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


async def main(runs: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="opensage-bench-"))
    backends: dict[str, object] = {}
    for name in ("local", "bwrap", "container"):
        try:
            backends[name] = open_sandbox(name)
        except SandboxUnavailable as exc:
            print(f"({name}: unavailable: {exc})")
    rows = []
    for label, argv in COMMANDS.items():
        base50, base95 = await measure(lambda argv=argv: bare(argv, workdir), runs)
        rows.append(
            {
                "command": label,
                "backend": "bare subprocess",
                "p50_ms": base50,
                "p95_ms": base95,
                "added_p50_ms": 0.0,
            }
        )
        for name, sandbox in backends.items():
            cmd = ["python3", *argv[1:]] if name == "container" and argv[0] != "true" else argv

            async def run(sandbox=sandbox, cmd=cmd) -> None:  # type: ignore[no-untyped-def]
                result = await sandbox.exec(cmd, workdir=workdir, limits=SandboxLimits())
                assert result.exit_code == 0, result

            n = runs if name != "container" else max(5, runs // 5)  # a container is slow
            p50, p95 = await measure(run, n)
            rows.append(
                {
                    "command": label,
                    "backend": name,
                    "p50_ms": p50,
                    "p95_ms": p95,
                    "added_p50_ms": p50 - base50,
                }
            )

    print(
        f"{'command':<16} | {'backend':<16} | {'p50 ms':>7} | {'p95 ms':>7} | {'added p50 ms':>12}"
    )
    print("-" * 70)
    for r in rows:
        print(
            f"{r['command']:<16} | {r['backend']:<16} | {r['p50_ms']:>7.1f} | "
            f"{r['p95_ms']:>7.1f} | {r['added_p50_ms']:>12.1f}"
        )
    print("\ntarget: bwrap adds < 15 ms at p50")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sandbox_latency.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    asyncio.run(main(parser.parse_args().runs))
