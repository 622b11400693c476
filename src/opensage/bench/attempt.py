"""One attempt at one task: its folders, the sandboxes it opens, what its preparation leaves
for the agent (`Workspace`) and what its verification finds (`Verdict`).

Each kind (terminal, swe, poc) has a module with `load(path) -> Task`,
`prepare(attempt, task, with_solution) -> (Workspace, Reference | None)` and
`verify(attempt, task, workspace) -> Verdict`; every command either runs goes through a
sandbox opened here, which hides OpenSage's home.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from opensage.bench.tasks import Task
from opensage.sandbox import (
    BackgroundProcess,
    Bind,
    Command,
    ExecResult,
    Sandbox,
    SandboxLimits,
    SandboxUnavailable,
    open_sandbox,
)


class InfraError(Exception):
    """The harness or the machine failed, not the agent (a build that fails, a sandbox that
    cannot start or crashed): retried a bounded number of times when `retry`, and reported
    apart from wrong answers."""

    def __init__(self, message: str, *, retry: bool = True):
        super().__init__(message)
        self.retry = retry


@dataclass
class Attempt:
    """Where one attempt works (`root`, empty at the start, under the output dir) and how
    its sandboxes are opened."""

    task: Task
    index: int  # which repeat
    root: Path
    home: Path  # OpenSage's home: hidden from every sandbox
    cache: Path  # kept across attempts of the benchmark (PoC builds)
    backend: str | None = None  # for SWE and PoC tasks; None: the best available
    image: str | None = None  # the container backend's image
    level: int = 1  # what a PoC task shows (CyberGym's levels 0-3)
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)  # shared by the benchmark's

    def lock(self, key: str) -> asyncio.Lock:
        """One lock per key for the whole benchmark (one build of an image or a source)."""
        return self.locks.setdefault(key, asyncio.Lock())

    def sandbox(
        self, backend: str | None = None, *, binds: Iterable[Bind] = (), image: str | None = None
    ) -> Sandbox:
        try:
            return open_sandbox(
                backend or self.backend, image=image or self.image, hidden=(self.home,), binds=binds
            )
        except SandboxUnavailable as exc:
            raise InfraError(f"no sandbox to run the task in: {exc}", retry=False) from None

    def limits_for(self, seconds: float) -> SandboxLimits:
        """The benchmark's limits with CPU time enough for a step of `seconds`."""
        cpu = self.limits.cpu_seconds
        return replace(self.limits, cpu_seconds=None if cpu is None else max(cpu, int(seconds)))


@dataclass
class Workspace:
    """What the agent gets: its work dir (on the host, and as its commands see it) and the
    sandbox its commands run in, and what verification needs to remember."""

    workdir: Path
    cwd: str
    sandbox: Sandbox
    backend: str  # which backend ran the task, for the results
    notes: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    prompt: str | None = None  # what the agent is told, when it is not the task's own


@dataclass
class Verdict:
    resolved: bool
    notes: list[str] = field(default_factory=list)
    log: str = ""  # what the verification printed, kept in the attempt's log file
    reward: float | None = None  # a terminal task's
    error: str | None = None  # the verification itself failed (timed out, wrote no reward)
    prediction: dict[str, Any] | None = None  # an SWE task's, for predictions.jsonl


class EnvSandbox:
    """A sandbox whose commands all get a task's environment variables (a Dockerfile's ENV)
    under their own."""

    def __init__(self, inner: Sandbox, env: Mapping[str, str]):
        self.inner = inner
        self.env = dict(env)
        self.name = inner.name

    async def exec(
        self,
        cmd: Command,
        *,
        workdir: Path,
        env: Mapping[str, str] | None = None,
        timeout_s: float | None = 60.0,
        limits: SandboxLimits | None = None,
        stdin: str | bytes | None = None,
    ) -> ExecResult:
        return await self.inner.exec(
            cmd,
            workdir=workdir,
            env={**self.env, **(env or {})},
            timeout_s=timeout_s,
            limits=limits,
            stdin=stdin,
        )

    async def start(
        self,
        cmd: Command,
        *,
        workdir: Path,
        env: Mapping[str, str] | None = None,
        limits: SandboxLimits | None = None,
        stdin: str | bytes | None = None,
    ) -> BackgroundProcess:
        return await self.inner.start(
            cmd, workdir=workdir, env={**self.env, **(env or {})}, limits=limits, stdin=stdin
        )


def check_sandbox(result: ExecResult, backend: str, what: str) -> None:
    """Raise an InfraError when the sandbox itself failed to run a command (bubblewrap could
    not set it up, the container engine could not start it): that is no answer of the task."""
    failed = (
        backend == "bwrap" and result.exit_code == 1 and result.stderr.startswith("bwrap: ")
    ) or (backend == "container" and result.exit_code == 125)
    if failed:
        raise InfraError(f"the sandbox could not run {what}: {tail(result.stderr.strip(), 500)}")


def tail(text: str, chars: int = 4000) -> str:
    return (
        text if len(text) <= chars else f"[... {len(text) - chars} chars cut ...]\n" + text[-chars:]
    )
