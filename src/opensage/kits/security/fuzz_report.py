"""What a `fuzz` call found, as the model reads it: each bug (`Finding`: the crashing inputs
that share a stack signature, and the one minimized) and the call's `FuzzReport` (runs, exec/s,
coverage, the corpus and crash folders, why fuzzing stopped early)."""

from __future__ import annotations

from dataclasses import dataclass, field

from opensage.kits.security.fuzz_targets import FuzzTarget
from opensage.kits.security.sanitizer import Crash


@dataclass
class Finding:
    """One bug: the crashing inputs that share a stack signature."""

    signature: str
    kind: str  # the artifact's: crash | leak | timeout | oom
    crash: Crash | None  # the report when the input was run again (None: it did not reproduce)
    inputs: list[str] = field(default_factory=list)  # relative to the work dir
    sizes: list[int] = field(default_factory=list)
    known: bool = False  # reported by an earlier call of this run
    minimized: str | None = None
    minimized_size: int | None = None
    found_s: float = 0.0  # when its first input came, from the start of fuzzing
    note: str = ""

    @property
    def what(self) -> str:
        return self.crash.kind if self.crash is not None else f"{self.kind} (did not reproduce)"


@dataclass
class FuzzReport:
    target: FuzzTarget
    seconds: float  # asked for (after fitting the CPU limit)
    elapsed_s: float = 0.0  # fuzzing, wall time
    workers: int = 1
    runs: int = 0
    cov: int | None = None
    ft: int | None = None
    corpus_files: int = 0
    corpus_dir: str = ""
    crashes_dir: str = ""
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stopped: str = ""  # why fuzzing ended before its time, if it did
    minimize_s: float = 0.0

    @property
    def exec_per_s(self) -> float:
        return self.runs / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def new(self) -> list[Finding]:
        return [f for f in self.findings if not f.known]

    def text(self) -> str:
        """The report as the model reads it."""
        t = self.target
        engine = "libFuzzer" if t.engine == "libfuzzer" else "atheris"
        workers = f"{self.workers} workers" if self.workers > 1 else "1 worker"
        cov = (
            f"coverage {self.cov} edges (ft {self.ft})"
            if self.cov is not None
            else "no coverage reported (is the target instrumented?)"
        )
        lines = [
            f"fuzzed {t.path} ({engine}) for {self.elapsed_s:.1f} s of {self.seconds:g} s with "
            f"{workers}: {self.runs:,} runs, {self.exec_per_s:,.0f} exec/s, {cov}; corpus "
            f"{self.corpus_files} inputs in {self.corpus_dir}/, crashing inputs in "
            f"{self.crashes_dir}/"
        ]
        if self.stopped:
            lines.append(f"stopped early: {self.stopped}")
        inputs = sum(len(f.inputs) for f in self.findings)
        new, known = self.new, [f for f in self.findings if f.known]
        if not self.findings:
            lines.append("no crashes found")
        else:
            lines.append(
                f"{len(new)} new crash{'es' if len(new) != 1 else ''} by signature "
                f"(from {inputs} crashing input{'s' if inputs != 1 else ''}):"
            )
            for n, finding in enumerate(new, 1):
                lines += _finding_lines(n, finding)
            if known:
                lines.append(
                    "found again (reported before): "
                    + ", ".join(f"{f.signature} {f.what}" for f in known)
                )
        lines += [f"note: {note}" for note in self.notes]
        if new:
            lines.append(
                "next: run_poc(binary, poc) on a minimized input for its full report, "
                "crash_context(binary, poc) for the variables at the crash"
            )
        return "\n".join(lines)


def _finding_lines(n: int, f: Finding) -> list[str]:
    crash = f.crash
    top = crash.top_frame if crash is not None else None
    head = f"{n}. [{f.signature}] {f.what} ({f.kind})"
    if crash is not None and crash.access:
        head += f", {crash.access}"
    if top is not None:
        head += f" in {top}"
    head += f", found after {f.found_s:.1f} s"
    out = [head]
    shown = ", ".join(f"{p} ({s} bytes)" for p, s in zip(f.inputs[:3], f.sizes[:3], strict=True))
    more = f" and {len(f.inputs) - 3} more" if len(f.inputs) > 3 else ""
    out.append(f"   inputs: {shown}{more}")
    if f.minimized is not None:
        out.append(f"   minimized: {f.minimized} ({f.minimized_size} bytes)")
    if f.note:
        out.append(f"   {f.note}")
    return out
