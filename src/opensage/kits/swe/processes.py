"""The SWE kit's commands: `run_command` in the foreground or the background, `read_output` and
`kill_process`.

A foreground command runs to its end (or its timeout) in the sandbox, as the shell kit's does.
A background one (a server, a watcher, a long build) is started with the sandbox's `start` and
kept in a `BackgroundProcesses` holder under a short handle (`bg1`, `bg2`, ...): its output is
read piece by piece, and it runs until it ends, is killed, or the holder is closed, which the
run does when it ends, so no background process outlives its run.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from opensage.core.tools import ToolError, truncate
from opensage.kits.shell import MAX_TIMEOUT_S, describe
from opensage.sandbox.base import BackgroundProcess, ExecResult, Sandbox, SandboxLimits

MAX_RUNNING = 8  # background processes running at once, per run
OUTPUT_CHARS = 20_000  # of each read: the head and the tail are kept
FIRST_LOOK_S = 0.5  # how long a new background process is watched before its handle is given
READ_WAIT_S = 1.0  # how long read_output waits for output when none has come yet


@dataclass
class _Entry:
    handle: str
    command: str
    proc: BackgroundProcess
    started: float = field(default_factory=time.monotonic)
    result: ExecResult | None = None  # once it ended and that was reported
    killed: bool = False


class BackgroundProcesses:
    """The background processes of one run, by handle. Closing it kills those still running."""

    def __init__(self, max_running: int = MAX_RUNNING):
        self.max_running = max_running
        self._entries: dict[str, _Entry] = {}
        self._count = 0

    @property
    def handles(self) -> list[str]:
        return list(self._entries)

    def running(self) -> list[str]:
        return [h for h, e in self._entries.items() if e.proc.running]

    async def start(self, sandbox: Sandbox, command: str, *, workdir: Path,
                    limits: SandboxLimits | None = None) -> str:
        """Start `command` in the sandbox and return its new handle."""
        running = self.running()
        if len(running) >= self.max_running:
            raise ToolError(
                f"{len(running)} background processes are running already "
                f"({', '.join(running)}), the most a run may have; stop one with "
                "kill_process(handle) first")
        proc = await sandbox.start(command, workdir=workdir, limits=limits)
        self._count += 1
        handle = f"bg{self._count}"
        self._entries[handle] = _Entry(handle, command, proc)
        return handle

    def get(self, handle: str) -> _Entry:
        entry = self._entries.get(handle.strip())
        if entry is None:
            known = ", ".join(self._entries) or "none yet"
            raise ToolError(
                f"no background process has the handle {handle!r} (handles: {known}); "
                "run_command(command, background=True) starts one and gives its handle")
        return entry

    async def read(self, handle: str, wait_s: float = READ_WAIT_S) -> str:
        """What the process wrote since the last read (waiting up to `wait_s` for something
        when nothing has come yet), and whether it still runs."""
        entry = self.get(handle)
        out, err = await entry.proc.read()
        deadline = time.monotonic() + wait_s
        while not (out or err) and entry.proc.running and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            out, err = await entry.proc.read()
        if not entry.proc.running and entry.result is None:
            entry.result = await entry.proc.wait()
            more_out, more_err = await entry.proc.read()  # what came with its end
            out, err = out + more_out, err + more_err
        return _report(entry, out, err)

    async def kill(self, handle: str) -> str:
        """Kill the process (and everything it started); what it wrote since the last read."""
        entry = self.get(handle)
        if entry.proc.running:
            entry.killed = True
        out, err = await entry.proc.read()
        entry.result = await entry.proc.kill()
        more_out, more_err = await entry.proc.read()
        return _report(entry, out + more_out, err + more_err)

    async def close(self) -> None:
        """Kill every background process still running (the run is over)."""
        for entry in self._entries.values():
            if entry.proc.running:
                entry.killed = True
                entry.result = await entry.proc.kill()

    async def __aenter__(self) -> BackgroundProcesses:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _report(entry: _Entry, out: str, err: str) -> str:
    age = time.monotonic() - entry.started
    if entry.proc.running:
        head = f"{entry.handle} is running ({age:.0f} s): {entry.command}"
    elif entry.killed:
        head = f"{entry.handle} was killed: {entry.command}"
    else:
        code = entry.result.exit_code if entry.result else "?"
        limit = f" (stopped by the sandbox's {entry.result.limit} limit)" if (
            entry.result and entry.result.limit) else ""
        head = f"{entry.handle} has exited with code {code}{limit}: {entry.command}"
    parts = [head]
    note = f"; read_output('{entry.handle}') gives what comes next"
    if out:
        parts.append("--- new stdout ---\n" + truncate(out.rstrip("\n"), OUTPUT_CHARS, note))
    if err:
        parts.append("--- new stderr ---\n" + truncate(err.rstrip("\n"), OUTPUT_CHARS, note))
    if not (out or err):
        parts.append("(no new output)")
    return "\n".join(parts)


async def run_command(sandbox: Sandbox, workdir: Path, command: str, timeout_s: float = 120.0,
                      background: bool = False, *, processes: BackgroundProcesses | None = None,
                      limits: SandboxLimits | None = None) -> str:
    """Run a shell command in the work directory (sandboxed: no network) and return its exit
    code and output. background=True starts it (a server, a watcher) and returns a handle for
    read_output and kill_process; background processes end with the run.

    Args:
        command: the command line, run by /bin/sh.
        timeout_s: seconds before a foreground command is killed (at most 3600).
        background: start it and return a handle instead of waiting for its end.
    """
    if not command.strip():
        raise ToolError("the command is empty: give a shell command line to run")
    if not background:
        timeout_s = max(1.0, min(timeout_s, MAX_TIMEOUT_S))
        result = await sandbox.exec(command, workdir=workdir, timeout_s=timeout_s, limits=limits)
        return truncate(describe(result, timeout_s), 2 * OUTPUT_CHARS)
    if processes is None:
        raise ToolError("background processes are not available in this run; run the command "
                        "in the foreground (background=False)")
    handle = await processes.start(sandbox, command, workdir=workdir, limits=limits)
    first = await processes.read(handle, wait_s=FIRST_LOOK_S)
    rest = (f"\nread_output('{handle}') shows its new output; kill_process('{handle}') "
            "stops it.") if processes.get(handle).proc.running else ""
    return f"started in the background as {handle}\n{first}{rest}"


async def read_output(processes: BackgroundProcesses, handle: str) -> str:
    """A background process's output since the last read, and whether it still runs.

    Args:
        handle: the handle run_command(..., background=True) gave, e.g. "bg1".
    """
    return await processes.read(handle)


async def kill_process(processes: BackgroundProcesses, handle: str) -> str:
    """Stop a background process and all it started; returns its last output.

    Args:
        handle: the handle run_command(..., background=True) gave, e.g. "bg1".
    """
    return await processes.kill(handle)
