"""The `container` backend: the podman or docker command line, whichever is present.

Each command runs in a fresh container of the configured image with a read-only root, no
capabilities, no new privileges, no network unless asked, a size-capped /tmp, memory, process and
CPU limits, and the work dir mounted read-write at the same path.
"""

from __future__ import annotations

import os
import resource
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from opensage.sandbox.base import (
    Command,
    ExecResult,
    SandboxLimits,
    SandboxUnavailable,
    hiding,
)
from opensage.sandbox.process import SandboxProcess, shell_argv, spawn

DEFAULT_IMAGE = "opensage-sandbox:latest"
INSTALL_HINT = ("install podman (works without a daemon) or docker, and build or pull an image "
                "with sh and python3 for [sandbox] image")


def find_engine() -> str | None:
    """podman, or a docker whose daemon answers."""
    podman = shutil.which("podman")
    if podman:
        return podman
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "info"], capture_output=True, timeout=20).returncode == 0:
        return docker
    return None


class ContainerSandbox:
    name = "container"

    def __init__(self, *, image: str | None = None, runtime: str | None = None,
                 hidden: Iterable[Path] = ()):
        engine = find_engine()
        if engine is None:
            raise SandboxUnavailable(f"no container engine found; {INSTALL_HINT}")
        self.engine = engine
        self.image = image or DEFAULT_IMAGE
        self.podman = Path(engine).name == "podman"
        self.hidden = tuple(hidden)  # never visible inside: see `hiding`
        # podman prefers crun; where only runc is installed, name it.
        self.runtime = runtime or (
            "runc" if self.podman and not shutil.which("crun") and shutil.which("runc") else None)
        probe = subprocess.run([engine, "image", "inspect", self.image], capture_output=True,
                               text=True, timeout=60)
        if probe.returncode != 0:
            raise SandboxUnavailable(
                f"{Path(engine).name} has no image {self.image!r}; {INSTALL_HINT}")

    def argv(self, cmd: Command, name: str, workdir: Path, env: Mapping[str, str],
             limits: SandboxLimits) -> list[str]:
        a = [self.engine]
        if self.runtime:
            a += ["--runtime", self.runtime]
        a += ["run", "--rm", "-i", "--name", name, "--init", "--read-only",
              "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
              # "network" means the host's, as bwrap's --share-net does.
              "--network", "host" if limits.network else "none",
              "-v", f"{workdir}:{workdir}:rw", "-w", str(workdir)]
        a += self.hide_argv(workdir)
        if workdir != Path("/tmp"):  # a work dir that is /tmp is the only /tmp it gets
            a += ["--tmpfs", f"/tmp:rw,size={limits.tmp_mb}m,mode=1777"]
        if limits.memory_mb is not None:
            a += ["--memory", f"{limits.memory_mb}m", "--memory-swap", f"{limits.memory_mb}m"]
        # The engine's default ulimits can exceed what this host allows, which makes the runtime
        # fail where raising limits is not permitted; always name them, within the host's.
        nproc = limits.processes or resource.getrlimit(resource.RLIMIT_NPROC)[1]
        nofile = limits.open_files or resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        a += ["--ulimit", f"nproc={nproc}:{nproc}", "--ulimit", f"nofile={nofile}:{nofile}"]
        if limits.processes is not None:
            a += ["--pids-limit", str(limits.processes)]
        if limits.cpu_seconds is not None:
            a += ["--ulimit", f"cpu={limits.cpu_seconds}:{limits.cpu_seconds + 1}"]
        if limits.file_size_mb is not None:
            size = limits.file_size_mb << 20
            a += ["--ulimit", f"fsize={size}:{size}"]
        for key, value in {"HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8", **env}.items():
            a += ["-e", f"{key}={value}"]
        return [*a, self.image, *shell_argv(cmd)]

    def hide_argv(self, workdir: Path) -> list[str]:
        hide = hiding(self.hidden, workdir)
        a = [arg for p in hide.pins for arg in ("-v", f"{p}:{p}:rw")]
        # podman would fill a tmpfs with what lies under it, unless told not to.
        empty = "ro,size=4k,notmpcopyup" if self.podman else "ro,size=4k"
        for p in hide.masks:
            a += ["--tmpfs", f"{p}:{empty}"] if p.is_dir() else ["-v", f"/dev/null:{p}:ro"]
        return a

    async def start(self, cmd: Command, *, workdir: Path, env: Mapping[str, str] | None = None,
                    limits: SandboxLimits | None = None,
                    stdin: str | bytes | None = None) -> SandboxProcess:
        limits = limits or SandboxLimits()
        workdir = Path(workdir).resolve()
        name = f"opensage-{os.getpid()}-{secrets.token_hex(4)}"
        argv = self.argv(cmd, name, workdir, env or {}, limits)

        def stop() -> None:  # killing the client does not stop the container
            # In a thread: removing a container can take seconds, and the loop must not wait.
            threading.Thread(target=subprocess.run, daemon=True,
                             args=([self.engine, "rm", "-f", "-t", "0", name],),
                             kwargs={"capture_output": True, "timeout": 60}).start()

        killed = False

        def kill() -> None:
            nonlocal killed
            killed = True
            stop()

        def on_exit() -> str | None:
            # Inside a container, a SIGKILL we did not send comes from the memory cgroup's OOM
            # killer (the memory limit is on resident memory, so allocation itself succeeds).
            return "memory" if proc.returncode == 137 and not killed else None

        proc = await spawn(argv, cwd=workdir, env={"PATH": os.environ.get("PATH", "")},
                           limits=limits, stdin=stdin, on_exit=on_exit, on_kill=kill)
        return proc

    async def exec(self, cmd: Command, *, workdir: Path, env: Mapping[str, str] | None = None,
                   timeout_s: float | None = 60.0, limits: SandboxLimits | None = None,
                   stdin: str | bytes | None = None) -> ExecResult:
        proc = await self.start(cmd, workdir=workdir, env=env, limits=limits, stdin=stdin)
        return await proc.wait(timeout_s)
