"""Enforcing `SandboxLimits`: rlimits, and a pids cgroup where rlimits cannot bind.

The kernel does not apply RLIMIT_NPROC to root (host uid 0, even inside a user namespace), and
CI runs as root. So when we are root, the process limit comes from a pids cgroup (v2, or v1's
pids hierarchy). For other users, RLIMIT_NPROC is set inside the sandbox's new user namespace,
where it counts only the sandbox's own processes.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import secrets
import shutil
import signal
import time
from pathlib import Path

from opensage.sandbox.base import SandboxLimits, SandboxUnavailable

MB = 1 << 20
V2_ROOT = Path("/sys/fs/cgroup")
V1_PIDS = Path("/sys/fs/cgroup/pids")
OURS = re.compile(r"(?:run|probe)-(\d+)(?:-[0-9a-f]+)?")  # named after the process that made it


def rlimits(limits: SandboxLimits, *, processes: bool) -> dict[int, int]:
    """The rlimits for `limits`. The CPU hard limit is a second above the soft one, so the
    process gets SIGXCPU (reported as the cpu limit) before SIGKILL."""
    out: dict[int, int] = {}
    if limits.cpu_seconds is not None:
        out[resource.RLIMIT_CPU] = limits.cpu_seconds
    if limits.memory_mb is not None:
        out[resource.RLIMIT_AS] = limits.memory_mb * MB
    if limits.file_size_mb is not None:
        out[resource.RLIMIT_FSIZE] = limits.file_size_mb * MB
    if limits.open_files is not None:
        out[resource.RLIMIT_NOFILE] = limits.open_files
    if processes and limits.processes is not None:
        out[resource.RLIMIT_NPROC] = limits.processes
    return out


def prlimit_argv(limits: SandboxLimits, *, processes: bool) -> list[str]:
    """`prlimit ... --` to put in front of a command, to set its limits from inside a sandbox."""
    names = {
        resource.RLIMIT_CPU: "cpu",
        resource.RLIMIT_AS: "as",
        resource.RLIMIT_FSIZE: "fsize",
        resource.RLIMIT_NOFILE: "nofile",
        resource.RLIMIT_NPROC: "nproc",
    }
    found = rlimits(limits, processes=processes)
    if not found:
        return []
    prlimit = shutil.which("prlimit", path="/usr/bin:/bin")
    if prlimit is None:
        raise SandboxUnavailable("prlimit is missing: install util-linux")
    args = [prlimit]
    for res, value in found.items():
        hard = value + 1 if res == resource.RLIMIT_CPU else value
        args.append(f"--{names[res]}={value}:{hard}")
    return [*args, "--"]


class PidsCgroup:
    """A pids cgroup for one command. Create it, have the child join it before exec, read
    whether the limit was hit, and destroy it (killing whatever is left in it)."""

    def __init__(self, path: Path, max_pids: int):
        self.path = path
        path.mkdir()
        (path / "pids.max").write_text(str(max_pids))

    @classmethod
    def create(cls, max_pids: int) -> PidsCgroup:
        parent = pids_parent()
        if parent is None:
            raise SandboxUnavailable(
                "as root, the sandbox's process limit needs a writable pids cgroup (the kernel "
                "exempts root from RLIMIT_NPROC); none was found under /sys/fs/cgroup. Run as a "
                "normal user, give the container cgroup write access, or set processes = none."
            )
        return cls(parent / f"run-{os.getpid()}-{secrets.token_hex(4)}", max_pids)

    def wrap(self, argv: list[str]) -> list[str]:
        """`argv`, started by a shell that first moves itself into this cgroup, so everything
        the command forks is counted. (A preexec function would do the same at the price of a
        full fork of the Python process: several milliseconds per command.)"""
        join = 'echo 0 > "$1/cgroup.procs" || exit 125; shift; exec "$@"'
        return ["/bin/sh", "-c", join, "sh", str(self.path), *argv]

    def limit_hit(self) -> bool:
        with contextlib.suppress(OSError):
            for line in (self.path / "pids.events").read_text().splitlines():
                name, _, count = line.partition(" ")
                if name == "max" and int(count) > 0:
                    return True
        return False

    def finish(self) -> str | None:
        """Destroy the cgroup once its command is done; "processes" if the limit was hit."""
        hit = self.limit_hit()
        self.destroy()
        return "processes" if hit else None

    def destroy(self) -> None:
        remove(self.path)


def remove(path: Path, wait_s: float = 2.0) -> None:
    """Kill what runs in the cgroup at `path` and remove it. Killed processes leave it only once
    they are gone, and a fork bomb can refill it for a while: retry for up to `wait_s`."""
    deadline = time.monotonic() + wait_s
    while True:
        with contextlib.suppress(OSError):
            for pid in map(int, (path / "cgroup.procs").read_text().split()):
                if pid > 0:  # 0: a process of another pid namespace; kill(0) is our own group
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:  # still busy: its processes are dying
            if time.monotonic() > deadline:
                return  # left to `remove_stale` of a later process
            time.sleep(0.01)


def remove_stale() -> None:
    """Remove the cgroups left by OpenSage processes that are gone: killed with SIGKILL or
    SIGTERM, they could not remove their own (what ran in them died with them, under bwrap)."""
    parent = pids_parent()
    if parent is None:
        return
    with contextlib.suppress(OSError):
        for folder in parent.iterdir():
            mine = OURS.fullmatch(folder.name)
            if mine and not alive(int(mine[1])):
                remove(folder, wait_s=1.0)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's
        pass
    return True


_parent: Path | bool | None = False  # False: not looked for yet


def pids_parent() -> Path | None:
    """A writable folder for our pids cgroups, or None. Looked for once per process."""
    global _parent
    if _parent is False:
        _parent = _find_pids_parent()
    return _parent  # type: ignore[return-value]


def _find_pids_parent() -> Path | None:
    candidates = []
    controllers = V2_ROOT / "cgroup.controllers"
    if controllers.is_file() and "pids" in controllers.read_text().split():
        candidates.append((V2_ROOT / "opensage", True))
    if (V1_PIDS / "pids.max").exists() or (V1_PIDS / "cgroup.procs").exists():
        candidates.append((V1_PIDS / "opensage", False))
    for folder, v2 in candidates:
        try:
            folder.mkdir(exist_ok=True)
            if v2:  # children of our folder need the pids controller handed down
                (folder / "cgroup.subtree_control").write_text("+pids")
            probe = folder / f"probe-{os.getpid()}"
            probe.mkdir()
            probe.rmdir()
            return folder
        except OSError:
            continue
    return None
