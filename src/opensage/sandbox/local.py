"""The `local` backend: a plain subprocess with the same limits and NO isolation.

It sees the whole file system and network and runs with your rights. Only ever used when chosen
explicitly; it warns every time it is created.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from opensage.sandbox.base import Command, ExecResult, SandboxLimits
from opensage.sandbox.limits import PidsCgroup, pids_parent, prlimit_argv, remove_stale
from opensage.sandbox.process import SandboxProcess, shell_argv, spawn

log = logging.getLogger("opensage.sandbox")
WARNING = ("the local sandbox backend does not isolate anything: commands run with your rights, "
           "see all your files and reach the network; use it only for code you trust")


class LocalSandbox:
    name = "local"

    def __init__(self) -> None:
        log.warning(WARNING)
        self.cgroups = os.geteuid() == 0 and pids_parent() is not None
        if self.cgroups:
            remove_stale()

    async def start(self, cmd: Command, *, workdir: Path, env: Mapping[str, str] | None = None,
                    limits: SandboxLimits | None = None,
                    stdin: str | bytes | None = None) -> SandboxProcess:
        limits = limits or SandboxLimits()
        # RLIMIT_NPROC would count all of this user's processes here (no user namespace), so the
        # process limit is only kept where a pids cgroup can be made.
        cgroup = PidsCgroup.create(limits.processes) if self.cgroups and limits.processes else None
        argv = prlimit_argv(limits, processes=False) + shell_argv(cmd)
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir),
                "LANG": "C.UTF-8"}
        return await spawn(cgroup.wrap(argv) if cgroup else argv, cwd=Path(workdir),
                           env={**base, **(env or {})}, limits=limits, stdin=stdin,
                           on_exit=cgroup.finish if cgroup else None)

    async def exec(self, cmd: Command, *, workdir: Path, env: Mapping[str, str] | None = None,
                   timeout_s: float | None = 60.0, limits: SandboxLimits | None = None,
                   stdin: str | bytes | None = None) -> ExecResult:
        proc = await self.start(cmd, workdir=workdir, env=env, limits=limits, stdin=stdin)
        return await proc.wait(timeout_s)
