"""A fuzz call's crashing inputs (`CrashFiler`): each one libFuzzer writes is run once in the
sandbox for its report and stack signature (see sanitizer.py; an uncaught exception for a Python
target), filed under that signature as a `Finding`, and taken out of the corpus if it is there
(a crashing seed would otherwise stop every restart at once). When fuzzing is over, one input
per new signature is minimized: libFuzzer's -minimize_crash=1 for a binary (not for timeouts:
every try would hang), a bounded delta debugging for a Python target (`PY_MINIMIZER`:
in-process calls of TestOneInput in the sandbox; skipped for a script that runs atheris
itself); a minimized input that no longer gives the same signature is dropped.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from opensage.kits.files import regular_files, remove_file
from opensage.kits.security.fuzz_report import Finding, FuzzReport
from opensage.kits.security.fuzz_targets import PY_EXCEPTION, PY_MINIMIZER, FuzzTarget, python_crash
from opensage.kits.security.libfuzzer import artifact_kind, rss_limit_mb
from opensage.kits.security.sanitizer import Crash, parse_report
from opensage.kits.security.workbench import Workbench
from opensage.sandbox.base import ExecResult, SandboxLimits

KILL_GRACE_S = 20  # past a process's end (its time, and one input's timeout) before it is killed
MAX_MINIMIZED = 5  # signatures minimized per call
MAX_MINIMIZE_S = 30  # per signature minimized, at most


@dataclass(eq=False)  # one call's state: equal only to itself
class CrashFiler:
    """The crashes one fuzz call found, by signature, and how its inputs run in the sandbox."""

    bench: Workbench
    target: FuzzTarget
    corpus: str  # folders, relative to the work dir
    crashes: str
    timeout: int  # libFuzzer's -timeout per input
    report: FuzzReport
    # The sanitizers' options, as run_poc sets them (UBSan halts on its first report: by default
    # it reports and goes on, and the fuzzer would never see its findings); see fuzzing_env.
    env: dict[str, str]
    seen: set[str]  # signatures reported by earlier calls
    by_signature: dict[str, Finding] = field(init=False, default_factory=dict)
    handled: set[str] = field(init=False, default_factory=set)  # artifact names already run
    # Of fuzzing: when a crash was found is counted from it.
    started: float = field(init=False, default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.root, self.sandbox = self.bench.root, self.bench.sandbox
        # The sanitizers stop a process at their memory limit (hard_rss_limit_mb); libFuzzer's
        # own, a tenth below, comes first, so that an input over it is an oom-* artifact.
        self.rss = rss_limit_mb(self.env)

    def limits(self, wall_s: float) -> SandboxLimits:
        """The run's limits for a sanitized process running up to `wall_s` (see
        Workbench.sanitized_limits: no address-space limit; CPU time up to the wall time)."""
        return self.bench.sanitized_limits(wall_s)

    def run_argv(self, path: str) -> list[str]:
        return [*self.target.argv, f"-timeout={self.timeout}", f"-rss_limit_mb={self.rss}", path]

    async def reproduce(self, path: str) -> tuple[Crash | None, ExecResult]:
        """Runs one input once; its crash report, if it crashed."""
        wall = self.timeout + KILL_GRACE_S
        result = await self.sandbox.exec(
            self.run_argv(path),
            workdir=self.root,
            env=self.env,
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
            argv, workdir=self.root, env=self.env, timeout_s=wall, limits=self.limits(wall)
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


def _size(root: Path, rel: str) -> int | None:
    parent, name = os.path.split(rel)
    return regular_files(root, parent).get(name)
