"""The security kit's `fuzz`: coverage-guided fuzzing of a libFuzzer binary or a Python target
(atheris) in the sandbox, with the crashes it finds grouped by stack signature and minimized.

    report = await run_fuzz(bench, "out/fuzz_png", seconds=60)   # bench: a Workbench
    report.findings[0].kind, report.findings[0].crash.top_frame, report.findings[0].minimized
    report.text()    # what the model reads

Targets: a libFuzzer binary or a Python file fuzzed with atheris (see fuzz_targets.py).

Each run keeps its files in the work dir, under fuzz/<target's file name>/: `corpus/` (kept
across calls, so a second call goes on from where the first stopped; seeds are copied in,
named by their SHA-1 as libFuzzer names its own) and `crashes/` (libFuzzer's artifacts:
crash-*, leak-*, timeout-*, oom-*, and minimized-<signature> for the minimized inputs).

How a run goes: `jobs` workers (capped at the machine's cores) each run the fuzzer in the
sandbox until the time is up. libFuzzer stops at the first crash, so a worker that stops with
one has the new input filed (run once for its stack signature, taken out of the corpus: see
fuzz_crashes.py) and restarts the fuzzer on the corpus with the time left. A worker whose last
3 restarts found only crashes it already had stops early: the fuzzer keeps falling into known
bugs, and the rest of the time would be spent on them. Then one input per new signature is
minimized (fuzz_crashes.py).

Limits. The fuzzer runs with the sanitizers' options and limits that run_poc uses
(`Workbench.sanitizer_env`, `Workbench.sanitized_limits`), less the per-allocation limit
(see `fuzzing_env`): no address-space limit under bwrap (ASan reserves terabytes of it); memory
bounded by the sanitizers' hard_rss_limit_mb (the limits' memory_mb, else 4096 MB) and by
libFuzzer's -rss_limit_mb and -malloc_limit_mb a tenth below it, so that an input over it is an
`oom` finding; CPU time up to each process's wall time (`seconds` is the budget); the process,
file-size and open-file limits and the absence of network unchanged. A fuzzer stopped by a
limit (or killed past its time) is reported as such, with the limit's name and value: libFuzzer
turns SIGXFSZ into an error of its own, which is read as the file-size limit, not as a crash of
the target.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from opensage.core.tools import ToolError
from opensage.kits.files import make_folders, regular_files
from opensage.kits.security.fuzz_crashes import (
    KILL_GRACE_S,
    MAX_MINIMIZE_S,
    MAX_MINIMIZED,
    CrashFiler,
)
from opensage.kits.security.fuzz_report import FuzzReport
from opensage.kits.security.fuzz_seeds import copy_seeds, seed_files
from opensage.kits.security.fuzz_targets import resolve_target
from opensage.kits.security.libfuzzer import (
    ARTIFACT_KINDS,
    FILE_SIZE_EXCEEDED,
    FINAL_STAT,
    WRITTEN,
    artifact_kind,
    fuzzing_env,
    libfuzzer_flags,
    parse_stats,
)
from opensage.kits.security.sanitizer import parse_report
from opensage.kits.security.workbench import Workbench
from opensage.sandbox.base import ExecResult, SandboxLimits

Progress = Callable[[dict[str, Any]], None]

MAX_SECONDS = 3600
POLL_S = 0.1  # how often a running fuzzer's output is read
PROGRESS_EVERY_S = 5.0  # at most one progress report per worker this often (INITED, DONE: always)
REPEATS_TO_STOP = 3  # restarts in a row that found only known crashes before a worker stops
MAX_ARTIFACTS = 50  # crashing inputs run per call; past them the fuzzer stops
MAX_INPUT_TIMEOUT_S = 10  # libFuzzer's -timeout per input, at most
# The longest one call can take: its fuzzers (each killed past its time), then each crashing
# input run once, then the minimizations (each run to its budget, its result run again).
LONGEST_S = (
    MAX_SECONDS
    + MAX_INPUT_TIMEOUT_S
    + KILL_GRACE_S
    + MAX_ARTIFACTS * (MAX_INPUT_TIMEOUT_S + KILL_GRACE_S)
    + MAX_MINIMIZED * (MAX_MINIMIZE_S + 3 * MAX_INPUT_TIMEOUT_S + 2 * KILL_GRACE_S)
)
SHOWN_TAIL_LINES = 25


async def run_fuzz(
    bench: Workbench,
    target: str,
    seconds: float = 60,
    seeds: str | Sequence[str] | None = None,
    dictionary: str | None = None,
    jobs: int = 1,
    minimize: bool = True,
    *,
    progress: Progress | None = None,
    seen: set[str] | None = None,
    input_timeout_s: int | None = None,
    seed: int | None = None,
    repeats_to_stop: int = REPEATS_TO_STOP,
) -> FuzzReport:
    """Fuzzes `target` (a libFuzzer binary or a .py file in the work dir) in the sandbox for
    `seconds` (at most 3600) and returns the report; its `text()` is the `fuzz` tool's answer.
    The other arguments are the tool's (SecurityTools.fuzz: `seeds`, a folder or a list of
    files and folders; `dictionary`, a file for -dict; `jobs`, workers on one corpus, at most
    the cores; `minimize`, one input per new signature), and: `progress`, called with each
    status line reported (see `parse_stats`; with "worker" and "elapsed_s"); `seen`, the
    signatures reported earlier in the run (crashes with one of them are "found again"; the
    new ones are added); `input_timeout_s`, the per-input -timeout (default: a tenth of
    `seconds`, between 1 and 10 s); `seed`, libFuzzer's -seed for worker 0's first run (the
    others count on from it); `repeats_to_stop`, restarts in a row finding only known crashes
    before a worker stops (0: stop at the first crash)."""
    if not 1 <= seconds <= MAX_SECONDS:
        raise ToolError(f"seconds must be between 1 and {MAX_SECONDS}, not {seconds:g}")
    if jobs < 1:
        raise ToolError(f"jobs must be 1 or more, not {jobs}")
    fuzz_target = await resolve_target(bench, target)
    notes: list[str] = []
    cores = os.cpu_count() or 1
    if jobs > cores:
        notes.append(f"{jobs} jobs asked for, {cores} ran: this machine has {cores} cores")
        jobs = cores
    dirs = f"fuzz/{fuzz_target.name}"
    corpus, crashes = f"{dirs}/corpus", f"{dirs}/crashes"
    dict_rel = _file(bench, dictionary, "dictionary") if dictionary else None
    seed_paths = seed_files(bench, seeds)
    for folder in (corpus, crashes):
        make_folders(bench.root, folder)
    copied = copy_seeds(bench, seed_paths, corpus, notes)
    if copied:
        notes.append(f"{copied} seed input{'s' if copied != 1 else ''} copied into {corpus}/")
    report = FuzzReport(
        fuzz_target, seconds, workers=jobs, corpus_dir=corpus, crashes_dir=crashes, notes=notes
    )
    toolchain = await bench.toolchain()
    timeout = input_timeout_s or int(min(MAX_INPUT_TIMEOUT_S, max(1, seconds // 10)))
    session = _Session(
        bench,
        fuzz_target,
        corpus,
        crashes,
        timeout,
        report,
        fuzzing_env(bench.sanitizer_env(toolchain)),
        seen if seen is not None else set(),
        dictionary=dict_rel,
        progress=progress,
        seed=seed,
        repeats_to_stop=repeats_to_stop,
    )
    existing = set(regular_files(bench.root, crashes))
    await session.fuzz(seconds, jobs)
    # Artifacts a fuzzer wrote without saying so (its output cut short): run them too.
    written = set(regular_files(bench.root, crashes))
    for name in sorted(written - existing - session.handled):
        if artifact_kind(name):
            await session.triage(f"{crashes}/{name}")
    if minimize:
        await session.minimize_all()
    report.corpus_files = len(regular_files(bench.root, corpus))
    report.findings.sort(key=lambda f: (f.known, ARTIFACT_KINDS.index(f.kind)))
    session.seen.update(f.signature for f in report.findings)
    return report


@dataclass(eq=False)  # one call's state: equal only to itself
class _Session(CrashFiler):
    """One fuzz call's shared state: its workers running the fuzzer, and the crashes they find
    (filed as CrashFiler does)."""

    dictionary: str | None = None
    progress: Progress | None = None
    seed: int | None = None  # libFuzzer's -seed for worker 0's first run
    repeats_to_stop: int = REPEATS_TO_STOP
    stop_all: str = field(init=False, default="")  # why every worker is to stop
    cov: dict[int, int] = field(init=False, default_factory=dict)  # by worker
    ft: dict[int, int] = field(init=False, default_factory=dict)
    failure: str | None = field(init=False, default=None)  # a fuzzer that could not start: why
    inited: bool = field(init=False, default=False)  # whether any fuzzer got to fuzzing

    def flags(self) -> list[str]:
        return libfuzzer_flags(self.timeout, self.rss, self.crashes, self.dictionary)

    async def fuzz(self, seconds: float, jobs: int) -> None:
        self.started = time.monotonic()
        deadline = self.started + seconds
        workers = [asyncio.create_task(self.worker(i, deadline)) for i in range(jobs)]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        self.report.elapsed_s = time.monotonic() - self.started
        if self.cov:
            self.report.cov = max(self.cov.values())
        if self.ft:
            self.report.ft = max(self.ft.values())
        if self.failure is not None and not self.report.findings and not self.inited:
            raise ToolError(self.failure)
        if self.failure is not None:
            self.report.notes.append(self.failure)
        if self.stop_all and not self.report.stopped:
            self.report.stopped = self.stop_all

    async def worker(self, index: int, deadline: float) -> None:
        repeats = 0
        restart = 0
        while not self.stop_all:
            remaining = deadline - time.monotonic()
            if remaining < 1:
                return
            argv = [*self.target.argv, *self.flags(), f"-max_total_time={int(remaining)}"]
            if self.seed is not None:
                argv.append(f"-seed={self.seed + 1000 * index + restart}")
            argv.append(self.corpus)
            restart += 1
            run = await self.run_fuzzer(index, argv, remaining)
            if run.file_size_exceeded:  # libFuzzer's SIGXFSZ handler writes an artifact too
                run.result.limit = "file_size"
            elif run.artifacts:
                known_before = set(self.by_signature)
                found = time.monotonic() - self.started
                signatures = [await self.triage(a, found) for a in run.artifacts]
                repeats = 0 if set(signatures) - known_before else repeats + 1
                if len(self.handled) >= MAX_ARTIFACTS:
                    self.stop_all = (
                        f"{MAX_ARTIFACTS} crashing inputs collected; fix or avoid "
                        "the bugs found to fuzz deeper"
                    )
                    return
                if repeats >= self.repeats_to_stop:
                    left = max(0.0, deadline - time.monotonic())
                    self.report.stopped = self.report.stopped or (
                        f"{left:.0f} s before the end, the last {repeats} restarts found only "
                        "crashes already found; fix them (or fuzz a build without them) to "
                        "fuzz deeper"
                        if self.repeats_to_stop
                        else f"{left:.0f} s before the end, at the first crash (as asked)"
                    )
                    return
                continue
            result = run.result
            if result.exit_code == 0 and not result.timed_out and not result.limit:
                return  # ran its time
            reason = self.why_stopped(run)
            if not run.inited:
                self.failure = reason
            else:
                self.stop_all = reason
            return

    async def run_fuzzer(self, index: int, argv: list[str], remaining: float) -> _Run:
        run = _Run(index)
        wall = remaining + self.timeout + KILL_GRACE_S
        run.limits = self.limits(wall)
        proc = await self.sandbox.start(argv, workdir=self.root, env=self.env, limits=run.limits)
        pending = ""
        try:
            hard_end = time.monotonic() + wall
            while proc.running and time.monotonic() < hard_end:
                await asyncio.sleep(POLL_S)
                _, err = await proc.read()
                pending = self.take_lines(run, pending + err)
            result = await proc.wait(max(0.1, hard_end - time.monotonic()))
        except BaseException:
            if proc.running:
                await proc.kill()
            raise
        _, err = await proc.read()
        self.take_lines(run, pending + err + "\n")
        if run.unreported is not None:
            self.report_progress(run, run.unreported)
        run.result = result
        finals = {m["name"]: int(m["value"]) for m in FINAL_STAT.finditer(result.stderr)}
        self.report.runs += finals.get("number_of_executed_units", run.last_runs)
        return run

    def take_lines(self, run: _Run, text: str) -> str:
        """Reads the complete lines of `text` into `run`, reporting progress (INITED and DONE
        at once, other status lines at most every PROGRESS_EVERY_S); returns the unfinished
        last line."""
        *lines, rest = text.split("\n")
        for line in lines:
            run.tail.append(line)
            del run.tail[:-SHOWN_TAIL_LINES]
            written = WRITTEN.search(line)
            if written:
                if written["path"] not in run.artifacts:
                    run.artifacts.append(written["path"])
                continue
            if FILE_SIZE_EXCEEDED in line:
                run.file_size_exceeded = True
            stats = parse_stats(line)
            if stats is None:
                continue
            run.inited = self.inited = True
            run.last_runs = stats["runs"]
            if "cov" in stats:
                self.cov[run.index] = stats["cov"]
            if "ft" in stats:
                self.ft[run.index] = stats["ft"]
            stats["worker"] = run.index
            stats["elapsed_s"] = round(time.monotonic() - self.started, 1)
            now = time.monotonic()
            if stats["event"] in ("INITED", "DONE") or now - run.reported_at >= PROGRESS_EVERY_S:
                self.report_progress(run, stats)
            else:
                run.unreported = stats
        return rest

    def report_progress(self, run: _Run, stats: dict[str, Any]) -> None:
        run.reported_at, run.unreported = time.monotonic(), None
        if self.progress is not None:
            self.progress(stats)

    def why_stopped(self, run: _Run) -> str:
        result = run.result
        limits = run.limits
        what = {
            "cpu": (
                f"the sandbox's CPU-time limit ({limits.cpu_seconds} s per process)",
                "ask for fewer seconds, or raise the limit",
            ),
            "file_size": (
                f"the sandbox's file-size limit ({limits.file_size_mb} MB per file)",
                "the target writes a file larger than that: make it write less (or "
                "to /dev/null), or raise the limit",
            ),
            "processes": (
                f"the sandbox's process limit ({limits.processes} processes)",
                "the target starts too many processes or threads",
            ),
            "memory": (
                f"the memory limit ({limits.memory_mb or self.rss} MB)",
                "the target needs more memory than that at start",
            ),
        }
        if result.timed_out:
            head = (
                f"the fuzzer ran past its time and was killed after "
                f"{result.duration_s:.0f} s (an input hanging without libFuzzer's timeout?)"
            )
        elif result.limit in what:
            name, hint = what[result.limit]
            head = f"the fuzzer was stopped by {name} after {result.duration_s:.1f} s: {hint}"
            crash = parse_report(result.stderr, self.root)
            if crash is not None and crash.top_frame is not None:
                head += f" (it was at {crash.top_frame})"
        elif "No module named 'atheris'" in "\n".join(run.tail):
            head = (
                "atheris cannot be imported in the sandbox, by its python3 or by the Python "
                "running OpenSage (which the sandbox shows read-only): install OpenSage's "
                "security extra (pip install 'opensage[security]'), or atheris in the "
                "container image's python3"
            )
        elif not run.inited:
            head = (
                f"the fuzzer could not start (exit code {result.exit_code}); fix what its "
                "output says"
            )
        else:
            head = f"the fuzzer stopped with exit code {result.exit_code} and no crashing input"
        # Stack frames and libFuzzer's closing statistics say little here.
        lines = [
            line
            for line in run.tail
            if line.strip() and not re.match(r"\s*#\d+ |stat::|Base64:|MS: ", line)
        ][-10:]
        return head + (". Its last lines:\n" + "\n".join(lines) if lines else "")


@dataclass
class _Run:
    """One fuzzer process, as read from its output."""

    index: int  # of its worker
    artifacts: list[str] = field(default_factory=list)
    tail: list[str] = field(default_factory=list)
    unreported: dict[str, Any] | None = None  # the last status line, if not reported yet
    reported_at: float = 0.0
    inited: bool = False
    file_size_exceeded: bool = False
    last_runs: int = 0
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    result: ExecResult = field(default_factory=lambda: ExecResult(0, "", "", 0.0))


def _file(bench: Workbench, path: str, what: str) -> str:
    target = bench.path(path, what)
    if not target.is_file():
        raise ToolError(f"the {what} {path!r} is not a regular file")
    return bench.relative(target)
