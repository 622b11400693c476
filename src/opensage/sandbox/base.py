"""The `Sandbox` protocol and the types every backend shares.

A sandbox runs a command (never in the host process) with resource limits, no network unless
asked, a cleared environment and one writable work directory. `exec` runs one command to the end;
`start` runs one in the background (servers, fuzzers) that can be read, waited on and killed.
"""

from __future__ import annotations

import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

Command = str | Sequence[str]  # a string runs through `sh -c`


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    cpu_seconds: int | None = 120
    memory_mb: int | None = 4096  # address space per process (bwrap, local); memory (container)
    processes: int | None = 256
    file_size_mb: int | None = 1024  # the largest file a process may write
    open_files: int | None = 1024
    tmp_mb: int = 512  # the private /tmp (bwrap)
    output_bytes: int = 1_000_000  # kept of stdout and of stderr each (head and tail)
    network: bool = False


@dataclass(slots=True)
class ExecResult:
    exit_code: int  # the command's; 128 + N when it died of signal N
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False  # the wall timeout ran out and the whole sandbox was killed
    limit: str | None = None  # a limit that stopped or hit it: cpu, file_size, processes, memory
    stdout_truncated: bool = False
    stderr_truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


class SandboxUnavailable(Exception):
    """This backend cannot run here; the message says what to install or change."""


@dataclass(frozen=True, slots=True)
class Hiding:
    """How a backend hides paths (OpenSage's home, with its stores and trusted configuration)
    that lie inside what a command sees: `masks`, covered with an empty read-only folder (a
    file: with /dev/null), and `pins`, the folders between the work dir and a mask, bound onto
    themselves so that no command can rename one and so move a hidden path from under its mask
    (a mount point cannot be renamed)."""

    pins: tuple[Path, ...] = ()
    masks: tuple[Path, ...] = ()


def hiding(hidden: Iterable[Path], workdir: Path, visible: Sequence[Path] = ()) -> Hiding:
    """What to hide of `hidden` for a command in `workdir` (resolved) that also sees the
    read-only `visible` paths. A hidden folder missing inside the work dir is made, empty: a
    command could otherwise create it and plant what the next run reads there."""
    pins: list[Path] = []
    masks: list[Path] = []
    for path in hidden:
        path = Path(os.path.abspath(path)).resolve()
        if path == workdir:
            raise PermissionError(
                f"the work dir {workdir} is OpenSage's home, which commands must not reach (it "
                "holds every run's events and the trusted configuration); run in another "
                "folder, or set OPENSAGE_HOME elsewhere"
            )
        if path.is_relative_to(workdir):
            pins += [
                p
                for p in path.parents
                if workdir in p.parents
                and p not in pins
                and not any(p.is_relative_to(v) for v in visible)
            ]  # read-only already
            if not path.exists():
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
        elif not any(path.is_relative_to(v) for v in visible):
            continue  # out of sight already
        masks.append(path)
    return Hiding(tuple(sorted(pins, key=lambda p: len(p.parts))), tuple(masks))


# Where a bind may not go: the system the sandbox shows read-only, its own /proc, /dev and /tmp.
RESERVED = tuple(
    Path(p)
    for p in (
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/lib32",
        "/lib64",
        "/libx32",
        "/etc",
        "/proc",
        "/dev",
        "/sys",
        "/tmp",
        "/run",
    )
)


@dataclass(frozen=True, slots=True)
class Bind:
    """A host folder or file shown inside the sandbox at another path, `target` (a task's /app,
    /tests, /logs), read-only unless `writable`. A command whose work dir is a bind's source
    starts in its target, so a task's work dir can be its /app."""

    source: Path | str
    target: Path | str
    writable: bool = False


def check_binds(binds: Iterable[Bind], hidden: Iterable[Path] = ()) -> tuple[Bind, ...]:
    """The binds, checked and resolved: an existing source that neither holds nor lies in a
    hidden path (OpenSage's home), an absolute target outside the system folders, each target
    once."""
    checked: list[Bind] = []
    hidden = [Path(os.path.abspath(h)).resolve() for h in hidden]
    for bind in binds:
        source = Path(os.path.abspath(bind.source)).resolve()
        given = Path(bind.target)
        target = Path(os.path.normpath(given))
        if not source.exists():
            raise FileNotFoundError(
                f"the bind source {bind.source} does not exist; create it "
                "before opening the sandbox"
            )
        if not given.is_absolute() or ".." in given.parts:
            raise ValueError(
                f"the bind target {bind.target} must be an absolute path without '..' (e.g. /app)"
            )
        if target == Path("/") or any(target == r or target.is_relative_to(r) for r in RESERVED):
            raise ValueError(
                f"the bind target {target} is a system folder the sandbox shows "
                f"as it is (one of {', '.join(map(str, RESERVED))}) or the root; "
                "bind elsewhere, e.g. under /app, /opt or /data"
            )
        if any(h.is_relative_to(source) or source.is_relative_to(h) for h in hidden):
            raise PermissionError(
                f"the bind source {source} holds or lies in OpenSage's home, "
                "which commands must not reach"
            )
        if any(b.target == target for b in checked):
            raise ValueError(f"two binds have the target {target}; give each target once")
        checked.append(Bind(source, target, bind.writable))
    return tuple(checked)


def start_dir(workdir: Path, binds: Sequence[Bind]) -> Path:
    """Where a command in `workdir` starts: the work dir as a bind shows it, if one does."""
    for bind in binds:
        if workdir.is_relative_to(bind.source):
            return Path(bind.target) / workdir.relative_to(bind.source)
    return workdir


class BackgroundProcess(Protocol):
    @property
    def running(self) -> bool: ...

    async def read(self) -> tuple[str, str]:
        """New stdout and stderr since the last read."""
        ...

    async def wait(self, timeout_s: float | None = None) -> ExecResult:
        """Wait for the end (killing it at the timeout); the result holds all kept output."""
        ...

    async def kill(self) -> ExecResult: ...


@runtime_checkable
class Sandbox(Protocol):
    name: str  # bwrap | container | local

    async def exec(
        self,
        cmd: Command,
        *,
        workdir: Path,
        env: Mapping[str, str] | None = None,
        timeout_s: float | None = 60.0,
        limits: SandboxLimits | None = None,
        stdin: str | bytes | None = None,
    ) -> ExecResult: ...

    async def start(
        self,
        cmd: Command,
        *,
        workdir: Path,
        env: Mapping[str, str] | None = None,
        limits: SandboxLimits | None = None,
        stdin: str | bytes | None = None,
    ) -> BackgroundProcess: ...


@dataclass(frozen=True, slots=True)
class Launch:
    """One command as a backend receives it: the caller's request, checked and completed."""

    cmd: Command
    workdir: Path  # resolved, and an existing folder
    env: dict[str, str]  # the backend's own variables, the caller's over them
    limits: SandboxLimits
    hide: Hiding  # what of the backend's hidden paths to cover in this work dir
    stdin: str | bytes | None = None
    binds: tuple[Bind, ...] = ()  # the backend's, as `check_binds` left them
    cwd: Path | None = None  # where the command starts (`start_dir`); None: the work dir


class SandboxBackend(ABC):
    """What the built-in backends do alike, written once so that they cannot drift apart: `exec`
    is `start` then `wait`, and `start` checks the work dir, fills in the default limits and
    environment and works out what to hide before the backend turns the resulting `Launch`
    into a running process. Callers keep seeing the `Sandbox` protocol."""

    name: str
    hidden: tuple[Path, ...] = ()  # never visible inside, even within the work dir: see `hiding`
    read_only: tuple[Path, ...] = ()  # host paths shown read-only inside, besides the system
    binds: tuple[Bind, ...] = ()  # host paths shown at other paths inside (see `Bind`)

    def environment(self, workdir: Path) -> dict[str, str]:
        """The variables every command gets; the caller's own `env` goes over them."""
        return {"HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8"}

    @abstractmethod
    async def launch(self, run: Launch) -> BackgroundProcess:
        """Start `run` the way this backend isolates a command."""

    async def start(
        self,
        cmd: Command,
        *,
        workdir: Path,
        env: Mapping[str, str] | None = None,
        limits: SandboxLimits | None = None,
        stdin: str | bytes | None = None,
    ) -> BackgroundProcess:
        workdir = Path(workdir).resolve()
        if not workdir.is_dir():
            raise FileNotFoundError(
                f"the work dir {workdir} is not an existing folder; create "
                "it first, or run the command in another folder"
            )
        return await self.launch(
            Launch(
                cmd,
                workdir,
                {**self.environment(workdir), **(env or {})},
                limits or SandboxLimits(),
                hiding(self.hidden, workdir, self.read_only),
                stdin,
                self.binds,
                start_dir(workdir, self.binds),
            )
        )

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
        proc = await self.start(cmd, workdir=workdir, env=env, limits=limits, stdin=stdin)
        return await proc.wait(timeout_s)


def read_only_paths(
    extra: Iterable[Path], hidden: Iterable[Path], *, python: bool
) -> tuple[Path, ...]:
    """The host paths to show read-only: `extra`, and this Python's prefixes when `python`;
    never one that lies in a hidden path (OpenSage's home; one that holds a hidden path is
    masked there, as under bwrap: see `hiding`)."""
    paths = {p.resolve() for p in extra}
    if python:
        paths |= {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    hidden = [Path(os.path.abspath(h)).resolve() for h in hidden]
    return tuple(sorted(p for p in paths if not any(p.is_relative_to(h) for h in hidden)))
