"""The `container` backend: the podman or docker command line, whichever is present.

Each command runs in a fresh container of the configured image with a read-only root, no
capabilities, no new privileges, no network unless asked, a size-capped /tmp, memory, process and
CPU limits, an init (pid 1) it cannot trace (podman), and the work dir mounted read-write at the
same path.
"""

from __future__ import annotations

import hashlib
import os
import resource
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterable
from pathlib import Path

from opensage.sandbox.base import (
    Bind,
    Hiding,
    Launch,
    SandboxBackend,
    SandboxUnavailable,
    check_binds,
)
from opensage.sandbox.process import SandboxProcess, shell_argv, spawn

DEFAULT_IMAGE = "opensage-sandbox:latest"
# Where podman's init (catatonit) is installed.
PODMAN_INITS = (
    "/usr/libexec/podman/catatonit",
    "/usr/libexec/catatonit/catatonit",
    "/usr/bin/catatonit",
)
INSTALL_HINT = (
    "install podman (works without a daemon) or docker, and build or pull an image "
    "with sh and python3 for [sandbox] image"
)


def unreadable_init() -> Path | None:
    """A copy of podman's init that its own container cannot read, or None if there is none.

    The container's pid 1 (the init) runs with the command's uid: a command could attach to it
    (`strace -p 1`), and an init left stopped never reports the end, so the container hung
    until its timeout. A program started from a file its process cannot read (execute-only,
    and no capability in the container overrides that) is not dumpable, and the kernel refuses
    to let a process without CAP_SYS_PTRACE trace, or read or write the memory of, one that is
    not dumpable. Kept in the user's cache folder under the hash of its content."""
    source = next(
        (
            Path(p)
            for p in (*PODMAN_INITS, shutil.which("catatonit") or "")
            if p and os.access(p, os.X_OK)
        ),
        None,
    )
    if source is None:
        return None
    data = source.read_bytes()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "opensage"
    copy = cache / f"podman-init-{hashlib.sha256(data).hexdigest()[:16]}"
    try:
        if not copy.exists():
            cache.mkdir(parents=True, exist_ok=True)
            partial = copy.with_name(f"{copy.name}.{os.getpid()}")
            partial.write_bytes(data)
            partial.chmod(0o111)
            partial.replace(copy)
    except OSError:
        return None  # podman's own init then, which a command can stop
    return copy


def find_engine() -> str | None:
    """podman, or a docker whose daemon answers."""
    podman = shutil.which("podman")
    if podman:
        return podman
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "info"], capture_output=True, timeout=20).returncode == 0:
        return docker
    return None


class ContainerSandbox(SandboxBackend):
    name = "container"

    def __init__(
        self,
        *,
        image: str | None = None,
        runtime: str | None = None,
        hidden: Iterable[Path] = (),
        binds: Iterable[Bind] = (),
    ):
        engine = find_engine()
        if engine is None:
            raise SandboxUnavailable(f"no container engine found; {INSTALL_HINT}")
        self.engine = engine
        self.image = image or DEFAULT_IMAGE
        self.podman = Path(engine).name == "podman"
        self.hidden = tuple(hidden)
        self.binds = check_binds(binds, self.hidden)
        init = unreadable_init() if self.podman else None  # docker names its init itself
        self.init = ["--init-path", str(init)] if init else []
        # podman prefers crun; where only runc is installed, name it.
        self.runtime = runtime or (
            "runc" if self.podman and not shutil.which("crun") and shutil.which("runc") else None
        )
        probe = subprocess.run(
            [engine, "image", "inspect", self.image], capture_output=True, text=True, timeout=60
        )
        if probe.returncode != 0:
            raise SandboxUnavailable(
                f"{Path(engine).name} has no image {self.image!r}; {INSTALL_HINT}"
            )

    def argv(self, run: Launch, name: str) -> list[str]:
        workdir, limits = run.workdir, run.limits
        a = [self.engine]
        if self.runtime:
            a += ["--runtime", self.runtime]
        a += [
            "run",
            "--rm",
            "-i",
            "--name",
            name,
            "--init",
            *self.init,
            "--read-only",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            # "network" means the host's, as bwrap's --share-net does.
            "--network",
            "host" if limits.network else "none",
            "-v",
            f"{workdir}:{workdir}:rw",
            "-w",
            str(run.cwd or workdir),
        ]
        a += [
            arg
            for b in run.binds
            for arg in ("-v", f"{b.source}:{b.target}:{'rw' if b.writable else 'ro'}")
        ]
        a += self.hide_argv(run.hide)
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
        for key, value in run.env.items():
            a += ["-e", f"{key}={value}"]
        return [*a, self.image, *shell_argv(run.cmd)]

    def hide_argv(self, hide: Hiding) -> list[str]:
        a = [arg for p in hide.pins for arg in ("-v", f"{p}:{p}:rw")]
        # podman would fill a tmpfs with what lies under it, unless told not to.
        empty = "ro,size=4k,notmpcopyup" if self.podman else "ro,size=4k"
        for p in hide.masks:
            a += ["--tmpfs", f"{p}:{empty}"] if p.is_dir() else ["-v", f"/dev/null:{p}:ro"]
        return a

    async def launch(self, run: Launch) -> SandboxProcess:
        name = f"opensage-{os.getpid()}-{secrets.token_hex(4)}"

        def stop() -> None:  # killing the client does not stop the container
            # In a thread: removing a container can take seconds, and the loop must not wait.
            threading.Thread(
                target=subprocess.run,
                daemon=True,
                args=([self.engine, "rm", "-f", "-t", "0", name],),
                kwargs={"capture_output": True, "timeout": 60},
            ).start()

        killed = False

        def kill() -> None:
            nonlocal killed
            killed = True
            stop()

        def on_exit() -> str | None:
            # Inside a container, a SIGKILL we did not send comes from the memory cgroup's OOM
            # killer (the memory limit is on resident memory, so allocation itself succeeds).
            return "memory" if proc.returncode == 137 and not killed else None

        proc = await spawn(
            self.argv(run, name),
            cwd=run.workdir,
            env={"PATH": os.environ.get("PATH", "")},
            limits=run.limits,
            stdin=run.stdin,
            on_exit=on_exit,
            on_kill=kill,
        )
        return proc
