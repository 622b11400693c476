import asyncio
import os
import signal
import struct
import subprocess
import sys
import time

import pytest

from opensage.sandbox import SandboxLimits, SandboxSession, SandboxUnavailable, open_sandbox
from opensage.sandbox.process import Capture

from .referee import referee, settle


@pytest.fixture(params=["bwrap", "local"])
def sandbox(request):
    return open_sandbox(request.param)


def run(coro):
    return asyncio.run(coro)


def test_exit_code_output_and_stdin(sandbox, tmp_path):
    r = run(
        sandbox.exec("read x; echo out:$x; echo err >&2; exit 3", workdir=tmp_path, stdin="hello\n")
    )
    assert (r.exit_code, r.stdout, r.stderr, r.ok) == (3, "out:hello\n", "err\n", False)
    argv = run(sandbox.exec(["printf", "%s|", "a b", "c"], workdir=tmp_path))
    assert argv.stdout == "a b|c|"  # a list is an argv, not shell words


def test_only_the_given_environment_is_seen(sandbox, tmp_path):
    r = run(sandbox.exec("echo $GREETING; echo $HOME", workdir=tmp_path, env={"GREETING": "hi"}))
    assert r.stdout.splitlines()[0] == "hi"


def test_a_missing_work_dir_is_named_before_anything_runs(sandbox, tmp_path):
    missing = tmp_path / "gone"
    with pytest.raises(FileNotFoundError, match=f"work dir {missing} is not an existing folder"):
        run(sandbox.exec("touch made", workdir=missing))
    assert not missing.exists()


def test_output_is_capped_keeping_head_and_tail(sandbox, tmp_path):
    r = run(
        sandbox.exec("seq 1 200000", workdir=tmp_path, limits=SandboxLimits(output_bytes=10_000))
    )
    assert r.stdout_truncated and not r.stderr_truncated
    assert r.stdout.startswith("1\n2\n3\n") and r.stdout.endswith("199999\n200000\n")
    assert "bytes cut" in r.stdout and len(r.stdout) < 11_000


def test_capture_counts_what_it_cut():
    c = Capture(10)
    for chunk in (b"abc", b"defgh", b"ijklmnop", b"qrst"):
        c.feed(chunk)
    assert c.total == 20 and c.truncated
    assert c.text() == "abcde\n[... 10 bytes cut ...]\npqrst"


def test_bwrap_system_is_read_only_and_python_is_there(tmp_path):
    sb = open_sandbox("bwrap")
    r = run(
        sb.exec(
            "touch /usr/x; python3 -c 'import sys; print(sys.version_info[0])'", workdir=tmp_path
        )
    )
    assert "Read-only file system" in r.stderr and r.stdout == "3\n"


def test_a_session_keeps_its_work_dir_and_cleans_up(sandbox):
    async def scenario():
        async with SandboxSession(sandbox) as session:
            await session.exec("echo kept > state.txt")
            again = await session.exec("cat state.txt")
            return session.workdir, again.stdout

    workdir, seen = run(scenario())
    assert seen == "kept\n" and not workdir.exists()


def test_background_process_read_wait_and_kill(sandbox, tmp_path):
    async def scenario():
        server = await sandbox.start(
            "for i in 1 2 3; do echo tick $i; sleep 0.2; done; sleep 30", workdir=tmp_path
        )
        first = ""
        async with asyncio.timeout(30):
            while "tick 3" not in first:  # each read brings only what is new
                first += (await server.read())[0]
                await asyncio.sleep(0.05)
        assert server.running
        killed = await server.kill()
        quick = await sandbox.start("echo done", workdir=tmp_path)
        return first, killed, await quick.wait(10)

    first, killed, quick = run(scenario())
    assert first == "tick 1\ntick 2\ntick 3\n"
    assert killed.exit_code == 137 and "tick 3" in killed.stdout
    assert quick.stdout == "done\n" and quick.exit_code == 0


def test_a_timeout_kills_children_too(sandbox, tmp_path):
    # A child that lives 5 s (ten times the timeout) writes late.txt: it must not get there.
    late, marker = referee(5)
    r = run(sandbox.exec(f"{late}sleep 30", workdir=tmp_path, timeout_s=0.5))
    assert r.timed_out and r.exit_code == 137
    assert settle(marker, tmp_path)


def test_unknown_backend_and_no_silent_fallback(monkeypatch):
    with pytest.raises(SandboxUnavailable, match="unknown sandbox backend 'vm'"):
        open_sandbox("vm")

    import opensage.sandbox.bwrap as bwrap
    import opensage.sandbox.container as container

    monkeypatch.setattr(bwrap, "find_bwrap", lambda: None)
    monkeypatch.setattr(container, "find_engine", lambda: None)
    with pytest.raises(SandboxUnavailable) as info:
        open_sandbox()
    message = str(info.value)
    assert "install bubblewrap" in message and "podman" in message
    assert "choose the local backend explicitly" in message


@pytest.mark.slow
def test_default_falls_back_to_a_container_when_bwrap_cannot_run(monkeypatch):
    import opensage.sandbox.bwrap as bwrap

    monkeypatch.setattr(bwrap, "find_bwrap", lambda: None)
    try:
        chosen = open_sandbox()
    except SandboxUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no container backend here: {exc}")
    assert chosen.name == "container"


def test_bwrap_commands_can_still_trace_their_own_processes(tmp_path):
    # Only pid 1 is out of ptrace's reach (see sandbox.seccomp): debuggers keep working.
    traced = (
        "import ctypes, os, time\n"
        "child = os.fork()\n"
        "if child == 0:\n    time.sleep(5); os._exit(0)\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "print(libc.ptrace(16, child, 0, 0), libc.ptrace(16, 1, 0, 0))\n"
        "os.kill(child, 9)\n"
    )
    r = run(open_sandbox("bwrap").exec(["python3", "-c", traced], workdir=tmp_path))
    assert r.stdout == "0 -1\n", r


ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="pids cgroups are made only as root")
HOLD_A_SANDBOX = """
import asyncio, sys
from pathlib import Path
from opensage.sandbox import open_sandbox

async def main():
    proc = await open_sandbox("bwrap").start("echo up; sleep 60", workdir=Path(sys.argv[1]))
    out = ""
    while "up" not in out:
        out += (await proc.read())[0]
        await asyncio.sleep(0.05)
    print("running", flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


def cgroups_of(pid):
    from opensage.sandbox.limits import pids_parent

    return sorted(pids_parent().glob(f"run-{pid}-*"))


@ROOT_ONLY
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_cgroups_of_a_killed_process_are_removed_by_the_next_sandbox(tmp_path, sig):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_A_SANDBOX, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "running\n"
        assert len(cgroups_of(holder.pid)) == 1
        holder.send_signal(sig)
        holder.wait(10)
    finally:
        holder.kill()
    time.sleep(0.2)  # its sandbox dies with it, and nobody is left to remove its cgroup...
    open_sandbox("bwrap")
    assert cgroups_of(holder.pid) == []  # ...but the next sandbox


@ROOT_ONLY
def test_timeouts_and_cancellations_remove_their_cgroups(tmp_path):
    # The last sleep is exec'd: with the bomb filling the pids limit, a fork could fail and end
    # the shell before its timeout, which is not what this test is about.
    crowd = "for i in $(seq 100); do sleep 30 & done; bomb() { bomb | bomb & }; bomb; exec sleep 30"
    sandbox = open_sandbox("bwrap")

    async def cancelled():
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(sandbox.exec(crowd, workdir=tmp_path, timeout_s=30), 1)

    for _ in range(3):
        timed_out = run(
            sandbox.exec(crowd, workdir=tmp_path, timeout_s=1, limits=SandboxLimits(processes=128))
        )
        assert timed_out.timed_out and cgroups_of(os.getpid()) == []
        run(cancelled())
        assert cgroups_of(os.getpid()) == []


def run_filter(program, arch, nr, pid):
    """What the seccomp filter answers for one system call (a classic-BPF interpreter for the
    three instructions it uses)."""
    from opensage.sandbox import seccomp

    ops = [struct.unpack("=HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]
    data = {seccomp.ARCH: arch, seccomp.NR: nr, seccomp.PID: pid}
    at, acc = 0, 0
    while True:
        code, jt, jf, k = ops[at]
        if code == seccomp.RETURN:
            return k
        if code == seccomp.LOAD:
            acc = data[k]
        at += 1 + ((jt if acc == k else jf) if code == seccomp.JUMP_IF_EQUAL else 0)


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_the_seccomp_filter_refuses_ptrace_of_pid_1_only(machine):
    from opensage.sandbox import seccomp

    program = seccomp.ptrace_filter(machine)
    for arch, numbers in seccomp.PTRACE[machine].items():
        for nr in numbers:
            assert run_filter(program, arch, nr, 1) == seccomp.DENY
            assert run_filter(program, arch, nr, 2) == seccomp.ALLOW
        assert run_filter(program, arch, 39, 1) == seccomp.ALLOW  # another call, same pid
    assert run_filter(program, 0x1234, 101, 1) == seccomp.ALLOW  # an unknown table
    assert seccomp.ptrace_filter("riscv64") is None


def test_bwrap_that_cannot_set_up_a_command_is_unavailable_at_once(monkeypatch):
    # Found when the sandbox is made, with bwrap's reason, not in the result of every command.
    import opensage.sandbox.bwrap as bwrap

    monkeypatch.setattr(bwrap, "_works", {})
    monkeypatch.setattr(bwrap, "SECCOMP", b"\0" * 12)  # not a whole filter
    with pytest.raises(SandboxUnavailable, match="bubblewrap cannot create a sandbox here"):
        open_sandbox("bwrap")
