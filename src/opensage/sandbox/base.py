"""The `Sandbox` protocol and the types every backend shares.

A sandbox runs a command (never in the host process) with resource limits, no network unless
asked, a cleared environment and one writable work directory. `exec` runs one command to the end;
`start` runs one in the background (servers, fuzzers) that can be read, waited on and killed.
"""

from __future__ import annotations

import os
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
                "folder, or set OPENSAGE_HOME elsewhere")
        if path.is_relative_to(workdir):
            pins += [p for p in path.parents if workdir in p.parents and p not in pins
                     and not any(p.is_relative_to(v) for v in visible)]  # read-only already
            if not path.exists():
                path.mkdir(mode=0o700, parents=True, exist_ok=True)
        elif not any(path.is_relative_to(v) for v in visible):
            continue  # out of sight already
        masks.append(path)
    return Hiding(tuple(sorted(pins, key=lambda p: len(p.parts))), tuple(masks))


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


class SandboxBackend(ABC):
    """What the built-in backends do alike, written once so that they cannot drift apart: `exec`
    is `start` then `wait`, and `start` checks the work dir, fills in the default limits and
    environment and works out what to hide before the backend turns the resulting `Launch`
    into a running process. Callers keep seeing the `Sandbox` protocol."""

    name: str
    hidden: tuple[Path, ...] = ()  # never visible inside, even within the work dir: see `hiding`
    read_only: tuple[Path, ...] = ()  # host paths shown read-only inside, besides the system

    def environment(self, workdir: Path) -> dict[str, str]:
        """The variables every command gets; the caller's own `env` goes over them."""
        return {"HOME": "/tmp", "TMPDIR": "/tmp", "LANG": "C.UTF-8"}

    @abstractmethod
    async def launch(self, run: Launch) -> BackgroundProcess:
        """Start `run` the way this backend isolates a command."""

    async def start(self, cmd: Command, *, workdir: Path, env: Mapping[str, str] | None = None,
                    limits: SandboxLimits | None = None,
                    stdin: str | bytes | None = None) -> BackgroundProcess:
        workdir = Path(workdir).resolve()
        if not workdir.is_dir():
            raise FileNotFoundError(f"the work dir {workdir} is not an existing folder; create "
                                    "it first, or run the command in another folder")
        return await self.launch(Launch(
            cmd, workdir, {**self.environment(workdir), **(env or {})},
            limits or SandboxLimits(), hiding(self.hidden, workdir, self.read_only), stdin))

    async def exec(self, cmd: Command, *, workdir: Path, env: Mapping[str, str] | None = None,
                   timeout_s: float | None = 60.0, limits: SandboxLimits | None = None,
                   stdin: str | bytes | None = None) -> ExecResult:
        proc = await self.start(cmd, workdir=workdir, env=env, limits=limits, stdin=stdin)
        return await proc.wait(timeout_s)
