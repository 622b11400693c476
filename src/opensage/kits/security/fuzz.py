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
one runs the new input once (in the sandbox) for its report and stack signature, takes it out
of the corpus if it is there (a crashing seed would otherwise stop every restart at once), and
restarts the fuzzer on the corpus with the time left. A worker whose last 3 restarts found only
crashes it already had stops early: the fuzzer keeps falling into known bugs, and the rest of
the time would be spent on them. Crashes are grouped by signature (see sanitizer.py) and one
input per signature is minimized: libFuzzer's -minimize_crash=1 for a binary (not for
timeouts: every try would hang), a bounded delta debugging for a Python target (in-process
calls of TestOneInput in the sandbox; skipped for a script that runs atheris itself); a
minimized input that no longer gives the same signature is dropped.

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
from pathlib import Path
from typing import Any

from opensage.core.tools import ToolError
from opensage.kits.files import make_folders, regular_files, remove_file
from opensage.kits.security.fuzz_report import Finding, FuzzReport
from opensage.kits.security.fuzz_seeds import copy_seeds, seed_files
from opensage.kits.security.fuzz_targets import (
    PY_EXCEPTION,
    PY_MINIMIZER,
    FuzzTarget,
    python_crash,
    resolve_target,
)
from opensage.kits.security.libfuzzer import (
    ARTIFACT_KINDS,
    FILE_SIZE_EXCEEDED,
    FINAL_STAT,
    WRITTEN,
    artifact_kind,
    fuzzing_env,
    libfuzzer_flags,
    parse_stats,
    rss_limit_mb,
)
from opensage.kits.security.sanitizer import Crash, parse_report
from opensage.kits.security.workbench import Workbench
from opensage.sandbox.base import ExecResult, SandboxLimits

Progress = Callable[[dict[str, Any]], None]

MAX_SECONDS = 3600
KILL_GRACE_S = 20  # past its -max_total_time (and one input's timeout) before a fuzzer is killed
POLL_S = 0.1  # how often a running fuzzer's output is read
PROGRESS_EVERY_S = 5.0  # at most one progress report per worker this often (INITED, DONE: always)
REPEATS_TO_STOP = 3  # restarts in a row that found only known crashes before a worker stops
MAX_ARTIFACTS = 50  # crashing inputs run per call; past them the fuzzer stops
MAX_MINIMIZED = 5  # signatures minimized per call
MAX_INPUT_TIMEOUT_S = 10  # libFuzzer's -timeout per input, at most
MAX_MINIMIZE_S = 30  # per signature minimized, at most
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
        dict_rel,
        timeout,
        report,
        fuzzing_env(bench.sanitizer_env(toolchain)),
        progress,
        seen if seen is not None else set(),
        seed,
        repeats_to_stop,
    )
    session.existing = set(regular_files(bench.root, crashes))
    await session.fuzz(seconds, jobs)
    # Artifacts a fuzzer wrote without saying so (its output cut short): run them too.
    written = set(regular_files(bench.root, crashes))
    for name in sorted(written - session.existing - session.handled):
        if artifact_kind(name):
            await session.triage(f"{crashes}/{name}")
    if minimize:
        await session.minimize_all()
    report.corpus_files = len(regular_files(bench.root, corpus))
    report.findings.sort(key=lambda f: (f.known, ARTIFACT_KINDS.index(f.kind)))
    session.seen.update(f.signature for f in report.findings)
    return report


class _Session:
    """One fuzz call's shared state: its workers, the crashes found and how to run things."""

    def __init__(
        self,
        bench: Workbench,
        target: FuzzTarget,
        corpus: str,
        crashes: str,
        dictionary: str | None,
        timeout: int,
        report: FuzzReport,
        env: dict[str, str],
        progress: Progress | None,
        seen: set[str],
        seed: int | None,
        repeats_to_stop: int,
    ):
        self.bench, self.root, self.sandbox = bench, bench.root, bench.sandbox
        self.target, self.corpus, self.crashes, self.dictionary = (
            target,
            corpus,
            crashes,
            dictionary,
        )
        self.timeout, self.report, self._env = timeout, report, env
        # The sanitizers stop a process at their memory limit (hard_rss_limit_mb); libFuzzer's
        # own, a tenth below, comes first, so that an input over it is an oom-* artifact.
        self.rss = rss_limit_mb(env)
        self.progress, self.seen, self.seed = progress, seen, seed
        self.repeats_to_stop = repeats_to_stop
        self.by_signature: dict[str, Finding] = {}
        self.existing: set[str] = set()
        self.handled: set[str] = set()  # artifact names already run
        self.stop_all = ""
        self.started = time.monotonic()
        self.cov: dict[int, int] = {}
        self.ft: dict[int, int] = {}
        self.failure: str | None = None  # a fuzzer that could not start: why
        self.inited = False  # whether any fuzzer got to fuzzing

    # -- fuzzing ----------------------------------------------------------------------------

    def flags(self) -> list[str]:
        return libfuzzer_flags(self.timeout, self.rss, self.crashes, self.dictionary)

    def env(self) -> dict[str, str]:
        """The sanitizers' options, as run_poc sets them (UBSan halts on its first report: by
        default it reports and goes on, and the fuzzer would never see its findings)."""
        return self._env

    def limits(self, wall_s: float) -> SandboxLimits:
        """The run's limits for a sanitized process running up to `wall_s` (see
        Workbench.sanitized_limits: no address-space limit; CPU time up to the wall time)."""
        return self.bench.sanitized_limits(wall_s)

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
        proc = await self.sandbox.start(argv, workdir=self.root, env=self.env(), limits=run.limits)
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

    # -- crashes ----------------------------------------------------------------------------

    def run_argv(self, path: str) -> list[str]:
        return [*self.target.argv, f"-timeout={self.timeout}", f"-rss_limit_mb={self.rss}", path]

    async def reproduce(self, path: str) -> tuple[Crash | None, ExecResult]:
        """Runs one input once; its crash report, if it crashed."""
        wall = self.timeout + KILL_GRACE_S
        result = await self.sandbox.exec(
            self.run_argv(path),
            workdir=self.root,
            env=self.env(),
            timeout_s=wall,
            limits=self.limits(wall),
        )
        return self.parse(result.stdout + "\n" + result.stderr), result

    def parse(self, text: str) -> Crash | None:
        if self.target.engine == "atheris" and PY_EXCEPTION in text:
            return python_crash(text, self.root)
        return parse_report(text, self.root)

    async def triage(self, path: str, found_s: float | None = None) -> str:
        """Runs a new crashing input once and files it under its signature (`found_s`: when
        the fuzzer that wrote it ended, from the start of fuzzing)."""
        name = Path(path).name
        self.handled.add(name)
        kind = artifact_kind(name) or "crash"
        self.uncorpus(name)
        size = _size(self.root, path)
        crash, _ = await self.reproduce(path)
        key = crash.signature if crash is not None else f"unreproduced-{kind}"
        finding = self.by_signature.get(key)
        if finding is None:
            finding = Finding(
                key,
                kind,
                crash,
                known=key in self.seen,
                found_s=time.monotonic() - self.started if found_s is None else found_s,
            )
            if crash is None:
                finding.note = (
                    "these inputs did not crash when run again: flaky, or "
                    "dependent on state from earlier inputs"
                )
            self.by_signature[key] = finding
            self.report.findings.append(finding)
        if path not in finding.inputs:
            finding.inputs.append(path)
            finding.sizes.append(size if size is not None else 0)
        return key

    def uncorpus(self, artifact: str) -> None:
        """Takes a crashing input out of the corpus (libFuzzer names both by the content's
        SHA-1), so that the next restart does not stop on it at once."""
        sha = artifact.split("-", 1)[-1]
        if not re.fullmatch(r"[0-9a-f]{40}", sha):
            return
        remove_file(self.root, f"{self.corpus}/{sha}")

    async def minimize_all(self) -> None:
        todo = [f for f in self.report.findings if not f.known and f.crash is not None]
        if not todo:
            return
        if self.target.minimizer is None:
            self.report.notes.append(f"not minimized: {self.target.why_not_minimized}")
            return
        start = time.monotonic()
        budget = int(min(MAX_MINIMIZE_S, max(5, self.report.seconds // 4)))
        for finding in todo[:MAX_MINIMIZED]:
            await self.minimize(finding, budget)
        if len(todo) > MAX_MINIMIZED:
            self.report.notes.append(
                f"{len(todo) - MAX_MINIMIZED} signatures not minimized "
                f"(the first {MAX_MINIMIZED} were)"
            )
        self.report.minimize_s = time.monotonic() - start

    async def minimize(self, finding: Finding, budget: int) -> None:
        smallest = min(finding.sizes)
        source = finding.inputs[finding.sizes.index(smallest)]
        out = f"{self.crashes}/minimized-{finding.signature}"
        if finding.kind == "timeout":
            finding.note = "not minimized: a timeout (every try would hang)"
            return
        if self.target.minimizer == "libfuzzer":
            argv = [
                *self.target.argv,
                "-minimize_crash=1",
                f"-max_total_time={budget}",
                f"-exact_artifact_path={out}",
                f"-timeout={self.timeout}",
                f"-rss_limit_mb={self.rss}",
                source,
            ]
        else:
            argv = [
                self.target.argv[0],
                "-c",
                PY_MINIMIZER,
                self.target.path,
                source,
                out,
                str(budget),
            ]
        wall = budget + self.timeout * 2 + KILL_GRACE_S
        await self.sandbox.exec(
            argv, workdir=self.root, env=self.env(), timeout_s=wall, limits=self.limits(wall)
        )
        size = _size(self.root, out)
        if size is None:
            finding.note = f"could not be made smaller than {smallest} bytes in {budget} s"
            return
        crash, _ = await self.reproduce(out)
        if crash is None or crash.signature != finding.signature:
            other = f"{crash.kind} [{crash.signature}]" if crash is not None else "no crash"
            finding.note = f"minimizing led to {other}, not this crash; the original inputs stand"
            remove_file(self.root, out)
            return
        finding.minimized, finding.minimized_size = out, size


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


def _size(root: Path, rel: str) -> int | None:
    parent, name = os.path.split(rel)
    return regular_files(root, parent).get(name)
