"""The `local` backend: a plain subprocess with the same limits and NO isolation.

It sees the whole file system and network and runs with your rights. Only ever used when chosen
explicitly; it warns every time it is created.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path

from opensage.sandbox.base import Bind, Launch, SandboxBackend, SandboxUnavailable
from opensage.sandbox.limits import pids_parent, prlimit_argv, remove_stale
from opensage.sandbox.process import SandboxProcess, shell_argv, spawn

log = logging.getLogger("opensage.sandbox")
WARNING = (
    "the local sandbox backend does not isolate anything: commands run with your rights, "
    "see all your files and reach the network; use it only for code you trust"
)


class LocalSandbox(SandboxBackend):
    name = "local"

    def __init__(self, *, binds: Iterable[Bind] = ()) -> None:
        if tuple(binds):
            raise SandboxUnavailable(
                "the local backend cannot show a path at another place "
                "(it has no mount namespace); use bwrap or container for "
                "a sandbox with binds"
            )
        log.warning(WARNING)
        self.cgroups = os.geteuid() == 0 and pids_parent() is not None
        if self.cgroups:
            remove_stale()

    def environment(self, workdir: Path) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir),
            "LANG": "C.UTF-8",
        }

    async def launch(self, run: Launch) -> SandboxProcess:
        # RLIMIT_NPROC would count all of this user's processes here (no user namespace), so the
        # process limit is only kept where a pids cgroup can be made.
        return await spawn(
            prlimit_argv(run.limits, processes=False) + shell_argv(run.cmd),
            cwd=run.workdir,
            env=run.env,
            limits=run.limits,
            stdin=run.stdin,
            pids_cgroup=self.cgroups,
        )
