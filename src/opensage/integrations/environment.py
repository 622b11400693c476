"""`EnvironmentSandbox`: OpenSage's `Sandbox` on another harness's environment (a Harbor task
container), so that an agent's commands run where the task's files are.

The environment is anything with Harbor's two calls (`Environment` below):
`exec(command, cwd, env, timeout_sec)` returning an object with `stdout`, `stderr` and
`return_code`, and `upload_file(source, target)`. Nothing here imports Harbor.

An OpenSage run needs a work dir on the host (its kits and event log name it); here that is an
empty stand-in, the `anchor`: a command run in the anchor (or a folder beneath it) runs in the
environment's work dir (or the same folder beneath that). The environment is the isolation:
its container, its network policy and its CPU and memory limits are the task's, so of
`SandboxLimits` only the output size is applied here. Harbor's exec has no standard input: a
command given some has it uploaded to a file in the environment's /tmp and read from there.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import shlex
import tempfile
import time
import uuid
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any, Protocol

from opensage.sandbox.base import Command, ExecResult, SandboxLimits
from opensage.sandbox.process import Capture

# Time given to the environment past a command's own timeout to kill it and answer, before
# the wait is given up on here.
GRACE_S = 15.0
KILLED = 128 + 9  # a timed-out command's exit code, as the other backends report SIGKILL


class Environment(Protocol):
    """What this sandbox uses of a Harbor `BaseEnvironment`."""

    async def exec(
        self,
        command: str,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        timeout_sec: int | None = None,
    ) -> Any: ...

    async def upload_file(self, source_path: Path | str, target_path: str) -> Any: ...


class EnvironmentSandbox:
    """Runs each command through the environment's `exec`, in `cwd` (the environment's work dir,
    `/app` in Terminal-Bench tasks) when the caller's work dir is the `anchor`."""

    name = "harbor"

    def __init__(self, environment: Environment, *, anchor: Path, cwd: str):
        self.environment = environment
        self.anchor = Path(anchor).resolve()
        self.cwd = PurePosixPath(cwd)

    def remote_dir(self, workdir: Path) -> str:
        """Where a command given the host work dir `workdir` runs in the environment."""
        workdir = Path(workdir).resolve()
        if not workdir.is_relative_to(self.anchor):
            raise ValueError(
                f"the work dir {workdir} is not the run's (a stand-in for the environment's "
                f"{self.cwd}): commands of this run can only run in {self.anchor} or beneath it"
            )
        return str(self.cwd.joinpath(*workdir.relative_to(self.anchor).parts))

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
        limits = limits or SandboxLimits()
        cwd = self.remote_dir(workdir)
        command = cmd if isinstance(cmd, str) else shlex.join(cmd)
        started = time.monotonic()
        async with self._stdin_file(stdin) as path:
            if path is not None:
                command = f"(\n{command}\n) < {shlex.quote(path)}"
            try:
                async with asyncio.timeout(None if timeout_s is None else timeout_s + GRACE_S):
                    result = await self.environment.exec(
                        command,
                        cwd=cwd,
                        env=dict(env) if env else None,
                        timeout_sec=None if timeout_s is None else max(1, math.ceil(timeout_s)),
                    )
            except Exception as exc:
                # Environments report a timeout each their own way (Docker's raises a
                # RuntimeError); a command that failed once its time was up timed out.
                elapsed = time.monotonic() - started
                if timeout_s is None or elapsed < timeout_s:
                    raise
                return ExecResult(KILLED, "", f"{exc}", elapsed, timed_out=True)
        stdout, stdout_cut = _kept(result.stdout, limits.output_bytes)
        stderr, stderr_cut = _kept(result.stderr, limits.output_bytes)
        return ExecResult(
            exit_code=int(result.return_code),
            stdout=stdout,
            stderr=stderr,
            duration_s=time.monotonic() - started,
            stdout_truncated=stdout_cut,
            stderr_truncated=stderr_cut,
        )

    async def start(
        self,
        cmd: Command,
        *,
        workdir: Path,
        env: Mapping[str, str] | None = None,
        limits: SandboxLimits | None = None,
        stdin: str | bytes | None = None,
    ) -> EnvironmentProcess:
        """A command running in the background. Harbor's exec answers only at the command's
        end, so its output can be read then, not while it runs."""
        pid_file = f"/tmp/opensage-{uuid.uuid4().hex}.pid"
        command = cmd if isinstance(cmd, str) else shlex.join(cmd)
        wrapped = f"echo $$ > {pid_file}; exec sh -c {shlex.quote(command)}"
        run = self.exec(
            wrapped, workdir=workdir, env=env, timeout_s=None, limits=limits, stdin=stdin
        )
        return EnvironmentProcess(self, asyncio.ensure_future(run), pid_file, workdir)

    @contextlib.asynccontextmanager
    async def _stdin_file(self, stdin: str | bytes | None) -> Any:
        """The path in the environment of a file holding `stdin` (None if there is none),
        removed from the environment afterwards."""
        if stdin is None:
            yield None
            return
        data = stdin.encode() if isinstance(stdin, str) else stdin
        remote = f"/tmp/opensage-stdin-{uuid.uuid4().hex}"
        fd, local = tempfile.mkstemp(prefix="opensage-stdin-")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            await self.environment.upload_file(local, remote)
        finally:
            os.unlink(local)
        try:
            yield remote
        finally:
            await self.environment.exec(f"rm -f {shlex.quote(remote)}", timeout_sec=30)


class EnvironmentProcess:
    """A background command of an `EnvironmentSandbox`: its exec, awaited in a task."""

    def __init__(
        self, sandbox: EnvironmentSandbox, task: asyncio.Future[ExecResult], pid_file: str, wd: Path
    ):
        self.sandbox = sandbox
        self.task = task
        self.pid_file = pid_file
        self.workdir = wd
        self.started = time.monotonic()
        self.read_once = False

    @property
    def running(self) -> bool:
        return not self.task.done()

    async def read(self) -> tuple[str, str]:
        """Nothing while it runs; all its output once, after it ended."""
        if self.running or self.read_once:
            return "", ""
        self.read_once = True
        result = await self.task
        return result.stdout, result.stderr

    async def wait(self, timeout_s: float | None = None) -> ExecResult:
        try:
            return await asyncio.wait_for(asyncio.shield(self.task), timeout_s)
        except TimeoutError:
            killed = await self.kill()
            killed.timed_out = True
            return killed

    async def kill(self) -> ExecResult:
        if self.running:
            # Stopped first, so that it cannot go on to its next command once its child dies.
            p = f"$(cat {self.pid_file})"
            await self.sandbox.exec(
                f"kill -STOP {p}; pkill -KILL -P {p}; kill -KILL {p}; rm -f {self.pid_file}; true",
                workdir=self.workdir,
                timeout_s=30,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.task), GRACE_S)
            if self.running:
                self.task.cancel()
                return ExecResult(KILLED, "", "", time.monotonic() - self.started)
        return await self.task


def _kept(text: str | None, cap: int) -> tuple[str, bool]:
    """`text` cut to its head and tail as the other backends cut output."""
    capture = Capture(cap)
    capture.feed((text or "").encode())
    return capture.text(), capture.truncated
