"""`run_command` in the foreground and the background, `read_output` and `kill_process`, in the
bwrap sandbox and (slow) the container backend: a real server on a loopback port inside the
sandbox, a loop printing lines, and a holder that kills what is left when it closes."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from opensage.core.tools import ToolError
from opensage.kits.swe.processes import (
    BackgroundProcesses,
    kill_process,
    read_output,
    run_command,
)
from opensage.sandbox import Sandbox

# Serves the work dir on a loopback port, then fetches a file from itself: the request shows in
# the server's log (stderr), which is how the test sees that it serves.
SERVER = (
    "python3 -u -m http.server {port} --bind 127.0.0.1 & "
    'python3 -c "import time, urllib.request\n'
    "for _ in range(300):\n"
    "    try:\n"
    "        print('fetched', urllib.request.urlopen("
    "'http://127.0.0.1:{port}/hello.txt').read().decode(), flush=True); break\n"
    "    except OSError as exc: time.sleep(0.1)\n"
    "else: print('gave up:', exc, flush=True)\"; wait"
)
LOOP = 'i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.1; done'


@pytest.fixture
def work(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    (root / "hello.txt").write_text("hello from the work dir")
    return root


async def wait_for(
    processes: BackgroundProcesses, handle: str, pattern: str, seconds: float = 40.0, seen: str = ""
) -> str:
    """read_output until what was read (after `seen`) matches `pattern`; all that was read."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        seen += await read_output(processes, handle) + "\n"
        if re.search(pattern, seen):
            return seen
    raise AssertionError(f"{pattern!r} never showed; read:\n{seen}")


def test_a_foreground_command_reports_its_exit_code_and_output(bwrap, work):
    out = asyncio.run(run_command(bwrap, work, "cat hello.txt; echo oops >&2; exit 3"))
    assert out.splitlines()[0] == "exit code 3"
    assert "--- stdout ---\nhello from the work dir" in out
    assert "--- stderr ---\noops" in out
    out = asyncio.run(run_command(bwrap, work, "sleep 5", timeout_s=1))
    assert "ran past its 1 s timeout" in out
    with pytest.raises(ToolError, match="empty"):
        asyncio.run(run_command(bwrap, work, "  "))


async def serve_read_kill(sandbox: Sandbox, work: Path, port: int) -> None:
    async with BackgroundProcesses() as processes:
        started = await run_command(
            sandbox, work, SERVER.format(port=port), background=True, processes=processes
        )
        assert started.startswith("started in the background as bg1\nbg1 is running")
        assert "kill_process('bg1')" in started
        # The server's log line (stderr) and the client's (stdout) may come in either order.
        seen = await wait_for(
            processes,
            "bg1",
            r'(?s)(?=.*"GET /hello.txt HTTP/1.1" 200)'
            r"(?=.*fetched hello from the work dir)",
            seen=started,
        )
        assert f"Serving HTTP on 127.0.0.1 port {port}" in seen
        # Nothing new since: the next read says so, and that it still runs.
        quiet = await read_output(processes, "bg1")
        assert quiet.startswith("bg1 is running") and "(no new output)" in quiet
        entry = processes.get("bg1")
        killed = await kill_process(processes, "bg1")
        assert killed.startswith("bg1 was killed")
        assert not entry.proc.running
        assert (await read_output(processes, "bg1")).startswith("bg1 was killed")
        assert processes.running() == []


def test_a_background_server_is_started_read_and_killed(bwrap, work):
    asyncio.run(serve_read_kill(bwrap, work, 18765))


def test_read_output_gives_only_what_is_new(bwrap, work):
    async def go() -> None:
        async with BackgroundProcesses() as processes:
            handle_text = await run_command(bwrap, work, LOOP, background=True, processes=processes)
            handle = re.search(r"as (bg\d+)", handle_text)[1]  # type: ignore[index]
            first = await wait_for(processes, handle, r"line 3\b")
            await asyncio.sleep(0.5)
            second = await read_output(processes, handle)
            last_first = max(int(n) for n in re.findall(r"line (\d+)", first))
            numbers = [int(n) for n in re.findall(r"line (\d+)", second)]
            assert numbers, second
            assert numbers[0] == last_first + 1  # nothing read twice, nothing lost
            assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
            await kill_process(processes, handle)

    asyncio.run(go())


def test_a_process_that_ends_by_itself_reports_its_exit_code(bwrap, work):
    async def go() -> None:
        processes = BackgroundProcesses()
        await run_command(bwrap, work, "echo done; exit 3", background=True, processes=processes)
        out = await wait_for(processes, "bg1", "has exited")
        assert "bg1 has exited with code 3" in out
        assert "done" in out
        again = await kill_process(processes, "bg1")  # nothing to kill: said as it is
        assert again.startswith("bg1 has exited with code 3")

    asyncio.run(go())


def test_closing_the_holder_kills_what_is_left(bwrap, work):
    async def go() -> None:
        processes = BackgroundProcesses()
        for _ in range(2):
            await run_command(bwrap, work, LOOP, background=True, processes=processes)
        entries = [processes.get(h) for h in processes.handles]
        assert all(e.proc.running for e in entries)
        await processes.close()
        assert not any(e.proc.running for e in entries)
        assert processes.running() == []

    asyncio.run(go())


def test_handles_and_limits_are_explained(bwrap, work):
    async def go() -> None:
        async with BackgroundProcesses(max_running=1) as processes:
            with pytest.raises(
                ToolError,
                match=r"no background process has the handle "
                r"'bg9' \(handles: none yet\)",
            ):
                await read_output(processes, "bg9")
            await run_command(bwrap, work, LOOP, background=True, processes=processes)
            with pytest.raises(
                ToolError,
                match=r"1 background processes are running "
                r"already \(bg1\).*kill_process",
            ):
                await run_command(bwrap, work, LOOP, background=True, processes=processes)
            with pytest.raises(ToolError, match=r"\(handles: bg1\)"):
                await kill_process(processes, "bg2")
        with pytest.raises(ToolError, match="not available in this run"):
            await run_command(bwrap, work, LOOP, background=True)

    asyncio.run(go())


@pytest.mark.slow
def test_a_background_server_in_the_container_backend(container, work):
    asyncio.run(serve_read_kill(container, work, 18766))
