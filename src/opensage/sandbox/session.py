"""A sandbox session: one work dir kept across calls, and the background processes started in
it, all cleaned up together."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from opensage.sandbox.base import (
    BackgroundProcess,
    Command,
    ExecResult,
    Sandbox,
    SandboxLimits,
)


class SandboxSession:
    def __init__(
        self,
        sandbox: Sandbox,
        workdir: Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        limits: SandboxLimits | None = None,
    ):
        self.sandbox = sandbox
        self.owns_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="opensage-"))
        self.env = dict(env or {})
        self.limits = limits or SandboxLimits()
        self.background: list[BackgroundProcess] = []

    async def exec(
        self,
        cmd: Command,
        *,
        timeout_s: float | None = 60.0,
        stdin: str | bytes | None = None,
        limits: SandboxLimits | None = None,
    ) -> ExecResult:
        return await self.sandbox.exec(
            cmd,
            workdir=self.workdir,
            env=self.env,
            timeout_s=timeout_s,
            limits=limits or self.limits,
            stdin=stdin,
        )

    async def start(
        self, cmd: Command, *, limits: SandboxLimits | None = None
    ) -> BackgroundProcess:
        proc = await self.sandbox.start(
            cmd, workdir=self.workdir, env=self.env, limits=limits or self.limits
        )
        self.background.append(proc)
        return proc

    async def close(self) -> None:
        for proc in self.background:
            if proc.running:
                await proc.kill()
        self.background.clear()
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    async def __aenter__(self) -> SandboxSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
