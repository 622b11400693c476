"""Running a prepared command line: output capture with a cap, wall timeouts that kill the whole
process group, background processes. Backends decide the command line; this runs it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from opensage.sandbox.base import ExecResult, SandboxLimits
from opensage.sandbox.limits import PidsCgroup

SIGNAL_LIMITS = {
    128 + signal.SIGXCPU: "cpu",
    128 + signal.SIGXFSZ: "file_size",
    -signal.SIGXCPU: "cpu",
    -signal.SIGXFSZ: "file_size",
}
MEMORY_ERRORS = ("MemoryError", "Cannot allocate memory", "std::bad_alloc", "out of memory")


class Capture:
    """Keeps the head and the tail of a stream (errors tend to be at the end), `cap` bytes in
    all, and what arrived since the last `take_new`."""

    def __init__(self, cap: int):
        self.head_cap = cap // 2
        self.tail_cap = cap - self.head_cap
        self.head = bytearray()
        self.tail: deque[bytes] = deque()
        self.tail_len = 0
        self.total = 0
        self.new = bytearray()

    def feed(self, data: bytes) -> None:
        self.total += len(data)
        if len(self.new) < self.head_cap + self.tail_cap:
            self.new += data[: self.head_cap + self.tail_cap - len(self.new)]
        room = self.head_cap - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail.append(data)
            self.tail_len += len(data)
            while self.tail_len - len(self.tail[0]) >= self.tail_cap:
                self.tail_len -= len(self.tail.popleft())

    @property
    def truncated(self) -> bool:
        return self.total > self.head_cap + self.tail_cap

    def text(self) -> str:
        tail = b"".join(self.tail)[-self.tail_cap :] if self.tail else b""
        if not self.truncated:
            return (bytes(self.head) + tail).decode(errors="replace")
        cut = self.total - len(self.head) - len(tail)
        return (
            self.head.decode(errors="replace")
            + f"\n[... {cut} bytes cut ...]\n"
            + tail.decode(errors="replace")
        )

    def take_new(self) -> str:
        out, self.new = self.new, bytearray()
        return out.decode(errors="replace")


class SandboxProcess:
    """A running sandboxed command. `exec` is `start` followed by `wait`."""

    def __init__(
        self,
        proc: asyncio.subprocess.Process,
        limits: SandboxLimits,
        on_exit: Callable[[], str | None] | None = None,
        on_kill: Callable[[], None] | None = None,
    ):
        self._proc = proc
        self._on_kill = on_kill  # for what killing our process group cannot reach (a container)
        self._started = time.monotonic()
        self._on_exit = on_exit  # cleans up; names a limit the command hit, if any
        self._out = Capture(limits.output_bytes)
        self._err = Capture(limits.output_bytes)
        self._pumps = [
            asyncio.create_task(self._pump(proc.stdout, self._out)),
            asyncio.create_task(self._pump(proc.stderr, self._err)),
        ]
        self._result: ExecResult | None = None

    @staticmethod
    async def _pump(stream: asyncio.StreamReader | None, into: Capture) -> None:
        if stream is None:
            return
        while chunk := await stream.read(65536):
            into.feed(chunk)

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode

    @property
    def running(self) -> bool:
        return self._proc.returncode is None

    async def read(self) -> tuple[str, str]:
        await asyncio.sleep(0)  # let the pumps take what is already in the pipes
        return self._out.take_new(), self._err.take_new()

    async def wait(self, timeout_s: float | None = None) -> ExecResult:
        if self._result is not None:
            return self._result
        timed_out = False
        try:
            async with asyncio.timeout(timeout_s):
                await self._proc.wait()
        except TimeoutError:
            timed_out = True
            self._kill_group()
            await self._proc.wait()
        except asyncio.CancelledError:
            self._kill_group()
            if self._on_exit is not None:  # the cgroup and the like must not outlive it
                self._on_exit()
                self._on_exit = None
            raise
        return await self._finish(timed_out)

    async def kill(self) -> ExecResult:
        if self._result is None and self.running:
            self._kill_group()
        await self._proc.wait()
        return await self._finish(False)

    async def _finish(self, timed_out: bool) -> ExecResult:
        if self._result is not None:
            return self._result
        # Children that inherited the pipes may keep them open; they were killed with the group.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await asyncio.gather(*self._pumps)
        for pump in self._pumps:
            pump.cancel()
        hit = self._on_exit() if self._on_exit else None
        code = self._proc.returncode if self._proc.returncode is not None else -1
        if code < 0:  # killed by a signal outside any sandbox (local backend): shell convention
            code = 128 - code
        stderr = self._err.text()
        limit = hit or SIGNAL_LIMITS.get(code)
        if limit is None and code != 0 and any(m in stderr for m in MEMORY_ERRORS):
            limit = "memory"
        self._result = ExecResult(
            exit_code=code,
            stdout=self._out.text(),
            stderr=stderr,
            duration_s=time.monotonic() - self._started,
            timed_out=timed_out,
            limit=limit,
            stdout_truncated=self._out.truncated,
            stderr_truncated=self._err.truncated,
        )
        return self._result

    def _kill_group(self) -> None:
        if self._on_kill is not None:
            self._on_kill()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, signal.SIGKILL)


async def spawn(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    limits: SandboxLimits,
    stdin: str | bytes | None = None,
    on_exit: Callable[[], str | None] | None = None,
    on_kill: Callable[[], None] | None = None,
    pass_fds: Sequence[int] = (),
    pids_cgroup: bool = False,
) -> SandboxProcess:
    """Start `argv` in a new session (so a timeout can kill its whole process group). With
    `pids_cgroup`, inside a new pids cgroup that holds it to `limits.processes`, reports a hit
    and is removed when it ends (at once if it cannot start); `on_exit` is then the cgroup's."""
    cgroup = PidsCgroup.create(limits.processes) if pids_cgroup and limits.processes else None
    if cgroup is not None:
        argv, on_exit = cgroup.wrap(list(argv)), cgroup.finish
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=dict(env),
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            pass_fds=pass_fds,
        )
        # Its pumps drain the output from now on, so writing stdin below cannot deadlock.
        running = SandboxProcess(proc, limits, on_exit, on_kill)
        if stdin is not None and proc.stdin is not None:
            data = stdin.encode() if isinstance(stdin, str) else stdin
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                proc.stdin.write(data)
                await proc.stdin.drain()
            proc.stdin.close()
    except BaseException:
        if cgroup is not None:
            cgroup.destroy()
        raise
    return running


def shell_argv(cmd: str | Sequence[str]) -> list[str]:
    return ["/bin/sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
