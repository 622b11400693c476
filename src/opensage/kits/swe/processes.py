"""The SWE kit's commands: `run_command` in the foreground or the background, `read_output` and
`kill_process`.

A foreground command runs to its end (or its timeout) in the sandbox, as the shell kit's does.
A background one (a server, a watcher, a long build) is started with the sandbox's `start` and
kept in a `BackgroundProcesses` holder under a short handle (`bg1`, `bg2`, ...): its output is
read piece by piece, and it runs until it ends, is killed, or the holder is closed, which the
run does when it ends, so no background process outlives its run. A read gives at most what an
answer may hold, from the oldest output not read yet; the rest waits for the next read.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.output import LIMIT, fit
from opensage.kits.shell import MAX_TIMEOUT_S, describe
from opensage.sandbox.base import BackgroundProcess, ExecResult, Sandbox, SandboxLimits

MAX_RUNNING = 8  # background processes running at once, per run
OUTPUT_CHARS = LIMIT - 1_000  # of each read, stdout and stderr together
MORE_OUTPUT = "send the output to a file and view it with a view_range, or filter it (grep, tail)"
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
    unread_out: str = ""  # output read from the process but not given yet (too long for one)
    unread_err: str = ""

    def take(self, out: str, err: str) -> tuple[str, str]:
        """What one answer holds of the output not given yet, oldest first, ending at a line's
        end where it can; the rest is kept for the next read."""
        out, err = self.unread_out + out, self.unread_err + err
        n_out = min(len(out), max(OUTPUT_CHARS // 2, OUTPUT_CHARS - len(err)))
        n_err = min(len(err), OUTPUT_CHARS - n_out)
        n_out, n_err = _at_line_end(out, n_out), _at_line_end(err, n_err)
        self.unread_out, self.unread_err = out[n_out:], err[n_err:]
        return out[:n_out], err[:n_err]

    @property
    def unread(self) -> int:
        return len(self.unread_out) + len(self.unread_err)


def _at_line_end(text: str, n: int) -> int:
    """`n`, or less so that text[:n] ends a line, if one ends in its second half."""
    if n >= len(text):
        return n
    end = text.rfind("\n", n // 2, n)
    return end + 1 if end >= 0 else n


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

    async def start(
        self, sandbox: Sandbox, command: str, *, workdir: Path, limits: SandboxLimits | None = None
    ) -> str:
        """Start `command` in the sandbox and return its new handle."""
        running = self.running()
        if len(running) >= self.max_running:
            raise ToolError(
                f"{len(running)} background processes are running already "
                f"({', '.join(running)}), the most a run may have; stop one with "
                "kill_process(handle) first"
            )
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
                "run_command(command, background=True) starts one and gives its handle"
            )
        return entry

    async def read(self, handle: str, wait_s: float = READ_WAIT_S) -> str:
        """What the process wrote since the last read (waiting up to `wait_s` for something
        when nothing has come yet), and whether it still runs."""
        entry = self.get(handle)
        out, err = await entry.proc.read()
        deadline = time.monotonic() + wait_s
        while (
            not (out or err or entry.unread) and entry.proc.running and time.monotonic() < deadline
        ):
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
    out, err = entry.take(out, err)
    age = time.monotonic() - entry.started
    if entry.proc.running:
        head = f"{entry.handle} is running ({age:.0f} s): {entry.command}"
    elif entry.killed:
        head = f"{entry.handle} was killed: {entry.command}"
    else:
        code = entry.result.exit_code if entry.result else "?"
        limit = (
            f" (stopped by the sandbox's {entry.result.limit} limit)"
            if (entry.result and entry.result.limit)
            else ""
        )
        head = f"{entry.handle} has exited with code {code}{limit}: {entry.command}"
    parts = [head]
    if out:
        parts.append("--- new stdout ---\n" + out.rstrip("\n"))
    if err:
        parts.append("--- new stderr ---\n" + err.rstrip("\n"))
    if not (out or err):
        parts.append("(no new output)")
    if entry.unread:
        parts.append(
            f"[{entry.unread} more characters of output not shown yet: "
            f"read_output('{entry.handle}') continues from there]"
        )
    return "\n".join(parts)


async def run_command(
    sandbox: Sandbox,
    workdir: Path,
    command: str,
    timeout_s: float = 120.0,
    background: bool = False,
    *,
    processes: BackgroundProcesses | None = None,
    limits: SandboxLimits | None = None,
) -> str:
    """The `run_command` tool (described in `opensage.kits.swe`): in the foreground as
    the shell kit's, or started in the background and kept in `processes` under a handle."""
    if not command.strip():
        raise ToolError("the command is empty: give a shell command line to run")
    if not background:
        timeout_s = max(1.0, min(timeout_s, MAX_TIMEOUT_S))
        result = await sandbox.exec(command, workdir=workdir, timeout_s=timeout_s, limits=limits)
        return fit(describe(result, timeout_s), MORE_OUTPUT)
    if processes is None:
        raise ToolError(
            "background processes are not available in this run; run the command "
            "in the foreground (background=False)"
        )
    handle = await processes.start(sandbox, command, workdir=workdir, limits=limits)
    first = await processes.read(handle, wait_s=FIRST_LOOK_S)
    rest = (
        (f"\nread_output('{handle}') shows its new output; kill_process('{handle}') stops it.")
        if processes.get(handle).proc.running
        else ""
    )
    return f"started in the background as {handle}\n{first}{rest}"


async def read_output(processes: BackgroundProcesses, handle: str) -> str:
    """The `read_output` tool: `BackgroundProcesses.read`."""
    return await processes.read(handle)


async def kill_process(processes: BackgroundProcesses, handle: str) -> str:
    """The `kill_process` tool: `BackgroundProcesses.kill`."""
    return await processes.kill(handle)
