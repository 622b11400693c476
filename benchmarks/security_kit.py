"""What the sandbox costs the security kit's fuzzing.

A small libFuzzer target with a planted bug (a stack-buffer-overflow behind a magic, two
checksummed records and a length check), built by the kit's `build(fuzzer=True)` in the
sandbox, twice: with the bug (for the time to find it) and with the bug fixed (for executions
per second, so that no crash ends a run early). Measured in the same run:

- executions per second of the fixed target fuzzed through `fuzz` in the sandbox against the
  same binary run bare (a plain subprocess, for measurement only) with the same flags, the same
  sanitizer options, the same time and -seed, from an empty corpus, both at the same time (so
  that both see the same load on a shared machine). Target: the sandbox at >= 0.9 of bare.
- time to the planted crash, the median over 5 seeds (-seed=N), through `fuzz` (when the fuzzer
  process that found it ended) and bare (the process's wall time until it exits at the crash).

Prints a table and writes benchmarks/results/security_kit.json.

    .venv/bin/python benchmarks/security_kit.py [--seconds 20] [--rounds 3] [--seeds 5]
        [--backend bwrap|container]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from opensage.kits.security.build import build
from opensage.kits.security.fuzz import run_fuzz
from opensage.kits.security.libfuzzer import fuzzing_env, libfuzzer_flags, rss_limit_mb
from opensage.kits.security.workbench import Workbench
from opensage.sandbox import open_sandbox

RESULTS = Path(__file__).parent / "results"
INPUT_TIMEOUT_S = 5
CRASH_BUDGET_S = 120  # the most a seed may take to find the planted bug

TARGET = """\
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static volatile uint8_t sink;

/* Records, each: a 4-byte tag, a 16-bit length, that many bytes and a 16-bit checksum of
   them. A file is the magic "OPENSAGE" and records; a "BODY" record longer than 64 bytes
   after a short "HEAD" record overflows the copy (unless built with -DNO_BUG). */
static size_t record(const uint8_t *data, size_t size, const char *tag) {
  if (size < 8 || memcmp(data, tag, 4) != 0) return 0;
  size_t length = data[4] | (size_t)data[5] << 8;
  if (size < 8 + length) return 0;
  uint16_t sum = 0;
  for (size_t i = 0; i < length; i++) sum = (uint16_t)(sum * 31 + data[6 + i]);
  if (sum != (data[6 + length] | data[7 + length] << 8)) return 0;
  return 8 + length;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 8 || memcmp(data, "OPENSAGE", 8) != 0) return 0;
  size_t head = record(data + 8, size - 8, "HEAD");
  if (head == 0 || head > 24) return 0;
  size_t body = record(data + 8 + head, size - 8 - head, "BODY");
  if (body == 0) return 0;
  uint8_t copy[64];
  size_t length = body - 8;
#ifdef NO_BUG
  if (length > sizeof copy) return 0;
#endif
  memcpy(copy, data + 8 + head + 6, length);
  sink = copy[length / 2];
  return 0;
}
"""
BUILD = (
    '$CC $CFLAGS planted.c -o "$OUT/planted" $LIB_FUZZING_ENGINE && '
    '$CC $CFLAGS -DNO_BUG planted.c -o "$OUT/fixed" $LIB_FUZZING_ENGINE'
)
EXECUTED = re.compile(r"^stat::number_of_executed_units:\s+(\d+)", re.MULTILINE)


async def bare(
    bench: Workbench, env: dict[str, str], binary: str, seconds: float, seed: int, name: str
) -> tuple[int, float, str]:
    """The binary run as a plain subprocess with fuzz's flags: (runs, wall seconds, stderr)."""
    corpus, crashes = f"bare/{name}/corpus", f"bare/{name}/crashes"
    for folder in (corpus, crashes):
        (bench.root / folder).mkdir(parents=True)
    argv = [
        f"./{binary}",
        *libfuzzer_flags(INPUT_TIMEOUT_S, rss_limit_mb(env), crashes),
        f"-max_total_time={int(seconds)}",
        f"-seed={seed}",
        corpus,
    ]
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=bench.root,
        env={"PATH": os.environ["PATH"], "HOME": str(bench.root), **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    wall = time.perf_counter() - started
    text = err.decode(errors="replace")
    runs = EXECUTED.search(text)
    return int(runs[1]) if runs else 0, wall, text


def clean(bench: Workbench) -> None:
    for folder in ("fuzz", "bare"):
        shutil.rmtree(bench.root / folder, ignore_errors=True)


async def throughput(
    bench: Workbench, env: dict[str, str], seconds: float, rounds: int
) -> list[dict[str, Any]]:
    """Each round fuzzes the fixed target bare and through `fuzz` at the same time (one core
    each on a machine with two or more), so that both see the same load from whatever else
    the machine runs; a round one after the other would compare two different moments."""
    rows = []
    for n in range(rounds):
        clean(bench)

        async def sandboxed(n: int = n) -> tuple[int, float]:
            report = await run_fuzz(
                bench,
                "out/fixed",
                seconds,
                input_timeout_s=INPUT_TIMEOUT_S,
                seed=n + 1,
                minimize=False,
            )
            assert not report.findings, report.text()
            return report.runs, report.elapsed_s

        async def plain(n: int = n) -> tuple[int, float]:
            runs, wall, _ = await bare(bench, env, "out/fixed", seconds, n + 1, f"fixed{n}")
            return runs, wall

        (box_runs, box_wall), (bare_runs, bare_wall) = await asyncio.gather(sandboxed(), plain())
        row: dict[str, Any] = {
            "round": n + 1,
            "seconds": seconds,
            "sandbox": {"runs": box_runs, "wall_s": box_wall, "exec_per_s": box_runs / box_wall},
            "bare": {"runs": bare_runs, "wall_s": bare_wall, "exec_per_s": bare_runs / bare_wall},
        }
        row["ratio"] = row["sandbox"]["exec_per_s"] / row["bare"]["exec_per_s"]
        rows.append(row)
        print(
            f"round {n + 1}: bare {row['bare']['exec_per_s']:,.0f} exec/s, sandbox "
            f"{row['sandbox']['exec_per_s']:,.0f} exec/s ({row['ratio']:.3f})",
            flush=True,
        )
    return rows


async def time_to_crash(bench: Workbench, env: dict[str, str], seeds: int) -> list[dict[str, Any]]:
    rows = []
    for seed in range(1, seeds + 1):
        clean(bench)
        report = await run_fuzz(
            bench,
            "out/planted",
            CRASH_BUDGET_S,
            seed=seed,
            input_timeout_s=INPUT_TIMEOUT_S,
            minimize=False,
            repeats_to_stop=0,
        )
        assert report.new, f"seed {seed}: the planted bug was not found: {report.text()}"
        bug = report.new[0]
        assert bug.crash is not None and bug.crash.kind == "stack-buffer-overflow", report.text()
        clean(bench)
        _, wall, err = await bare(bench, env, "out/planted", CRASH_BUDGET_S, seed, "planted")
        assert "stack-buffer-overflow" in err, f"seed {seed}: bare found no crash"
        rows.append({"seed": seed, "sandbox_s": bug.found_s, "bare_s": wall})
        print(
            f"seed {seed}: crash after {wall:.2f} s bare, {bug.found_s:.2f} s in the sandbox",
            flush=True,
        )
    return rows


async def main(seconds: float, rounds: int, seeds: int, backend: str) -> None:
    root = Path(tempfile.mkdtemp(prefix="opensage-bench-"))
    (root / "planted.c").write_text(TARGET)
    bench = Workbench(root, open_sandbox(backend))
    print(await build(bench, BUILD, fuzzer=True))
    env = fuzzing_env(bench.sanitizer_env(await bench.toolchain()))
    speed = await throughput(bench, env, seconds, rounds)
    crashes = await time_to_crash(bench, env, seeds)
    clean(bench)

    bare_eps = sum(r["bare"]["runs"] for r in speed) / sum(r["bare"]["wall_s"] for r in speed)
    box_eps = sum(r["sandbox"]["runs"] for r in speed) / sum(r["sandbox"]["wall_s"] for r in speed)
    bare_crash = statistics.median(r["bare_s"] for r in crashes)
    box_crash = statistics.median(r["sandbox_s"] for r in crashes)
    summary = {
        "backend": backend,
        "cores": os.cpu_count(),
        "seconds_per_run": seconds,
        "rounds": rounds,
        "seeds": seeds,
        "bare_exec_per_s": bare_eps,
        "sandbox_exec_per_s": box_eps,
        "exec_ratio": box_eps / bare_eps,
        "bare_time_to_crash_median_s": bare_crash,
        "sandbox_time_to_crash_median_s": box_crash,
    }
    print()
    print(f"{'measure':<38} | {'bare':>12} | {backend + ' (fuzz)':>14} | {'ratio':>6}")
    print("-" * 80)
    print(
        f"{'exec/s, fixed target (' + str(rounds) + ' x ' + str(int(seconds)) + ' s)':<38} | "
        f"{bare_eps:>12,.0f} | {box_eps:>14,.0f} | {box_eps / bare_eps:>6.3f}"
    )
    print(
        f"{'time to the planted crash, median of ' + str(seeds):<38} | "
        f"{bare_crash:>10.2f} s | {box_crash:>12.2f} s | {box_crash / bare_crash:>6.2f}"
    )
    print("\ntarget: exec/s through the sandbox >= 0.9 of bare")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "security_kit.json").write_text(
        json.dumps({"summary": summary, "throughput": speed, "time_to_crash": crashes}, indent=2)
    )
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--backend", default="bwrap")
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.rounds, args.seeds, args.backend))
