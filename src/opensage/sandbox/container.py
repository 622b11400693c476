"""The `container` backend: the podman or docker command line, whichever is present.

Each command runs in a fresh container of the configured image with a read-only root, no
capabilities, no new privileges, no network unless asked, a size-capped /tmp, memory, process and
CPU limits, an init (pid 1) it cannot trace (podman), and the work dir mounted read-write at the
same path.

The Python running OpenSage (its virtualenv and the interpreter that made it) is mounted too,
read-only and at the same paths, as under bwrap: a tool can run that interpreter, with the
packages OpenSage installed (atheris for the security kit's fuzz), where the image lacks them.
It is not on the PATH, so that `python3` stays the image's own, and a prefix the image already
has a folder at is left out rather than covering the image's own (a task image's conda, say).
"""

from __future__ import annotations

import hashlib
import os
import resource
import secrets
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from opensage.sandbox.base import (
    Bind,
    Hiding,
    Launch,
    SandboxBackend,
    SandboxLimits,
    SandboxUnavailable,
    check_binds,
    read_only_paths,
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
# Prints which of its arguments exist in the image.
EXISTING = 'for p; do [ -e "$p" ] && echo "$p"; done; true'
# Per engine and image id: of the paths asked about, those the image has.
_in_image: dict[tuple[str, str, tuple[Path, ...]], frozenset[Path]] = {}


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
        extra_ro: tuple[Path, ...] = (),
        python: bool = True,
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
            [engine, "image", "inspect", "--format", "{{.Id}}", self.image],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if probe.returncode != 0:
            raise SandboxUnavailable(
                f"{Path(engine).name} has no image {self.image!r}; {INSTALL_HINT}"
            )
        # A path the image has (its /usr, a task image's own conda) is the image's.
        wanted = read_only_paths(extra_ro, self.hidden, python=python)
        present = self.in_image(probe.stdout.strip(), wanted) if wanted else frozenset()
        self.read_only = tuple(p for p in wanted if p not in present)

    def in_image(self, image_id: str, paths: tuple[Path, ...]) -> frozenset[Path]:
        """Of `paths`, those the image has: run once per image (half a second), in a container
        as every command gets, with nothing of the host's shown but an empty work dir."""
        key = (self.engine, image_id, paths)
        if key not in _in_image:
            with tempfile.TemporaryDirectory() as empty:
                workdir = Path(empty).resolve()
                run = Launch(
                    ("sh", "-c", EXISTING, "sh", *map(str, paths)),
                    workdir,
                    {},
                    SandboxLimits(),
                    Hiding(),
                )
                result = subprocess.run(
                    self.argv(run, f"opensage-{os.getpid()}-{secrets.token_hex(4)}"),
                    stdin=subprocess.DEVNULL,  # it runs with -i: not a byte of OpenSage's own
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
            if result.returncode != 0:
                raise SandboxUnavailable(
                    f"{Path(self.engine).name} could not run a command in the image "
                    f"{self.image!r}: {result.stderr.strip()[-500:]}; {INSTALL_HINT}"
                )
            _in_image[key] = frozenset(Path(line) for line in result.stdout.splitlines())
        return _in_image[key]

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
        # The engine mounts a path inside another after it, in whatever order they are given: a
        # read-only path inside the work dir (a venv in the repo) stays read-only. (One that is
        # the work dir or a bind's target gives way: the engine refuses a path mounted twice.)
        taken = {workdir, *(Path(b.target) for b in run.binds)}
        a += [arg for p in self.read_only if p not in taken for arg in ("-v", f"{p}:{p}:ro")]
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
