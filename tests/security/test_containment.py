"""Hostile commands, each of which must be contained by the sandbox (and leave it healthy)."""

import asyncio
import os
import platform
import secrets
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from pathlib import Path

import pytest

from opensage.config import Config
from opensage.runtime import run_sandbox
from tests.sandbox.referee import left_running, referee, settle


def test_a_secret_in_the_host_home_cannot_be_read(run):
    secret = Path.home() / f".opensage-test-secret-{secrets.token_hex(4)}"
    secret.write_text("TOP-SECRET-VALUE")
    try:
        r = run(f"cat {secret}; ls -a {Path.home()}")
        assert "TOP-SECRET-VALUE" not in r.stdout + r.stderr
        assert secret.name not in r.stdout
    finally:
        secret.unlink()


def test_nothing_outside_the_work_dir_can_be_written(run, work, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "pwned.txt"
    (work / "dir_link").symlink_to(outside)
    (work / "file_link").symlink_to(target)
    r = run(
        f"echo 1 > {target}; echo 2 > dir_link/pwned.txt; echo 3 > file_link; "
        f"echo 4 > ../outside/pwned.txt; touch /usr/pwned /etc/pwned; echo done"
    )
    assert r.stdout.endswith("done\n")
    assert not target.exists() and list(outside.iterdir()) == []
    assert not Path("/usr/pwned").exists() and not Path("/etc/pwned").exists()
    ok = run("echo inside > made_here.txt")
    assert ok.exit_code == 0 and (work / "made_here.txt").read_text() == "inside\n"


def _listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    accepted = []

    def accept():
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not accepted:
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:  # the test closed the server
                return

    threading.Thread(target=accept, daemon=True).start()
    return server, accepted


CONNECT = (
    "python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), "
    "timeout=3); print('CONNECTED')\""
)


def test_a_host_loopback_listener_cannot_be_reached(run):
    server, accepted = _listener()
    port = server.getsockname()[1]
    r = run(CONNECT.format(port=port))
    assert "CONNECTED" not in r.stdout and r.exit_code != 0
    time.sleep(0.3)
    assert accepted == []
    server.close()


def test_the_network_is_there_when_asked_for(run):
    # The control for the test above: the same probe does connect when the network is on.
    server, _accepted = _listener()
    r = run(CONNECT.format(port=server.getsockname()[1]), network=True)
    assert "CONNECTED" in r.stdout, r.stderr
    server.close()


def test_host_api_keys_are_not_in_the_environment(run, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-secret-123")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-host-secret-456")
    r = run("env; cat /proc/1/environ 2>/dev/null | tr '\\0' '\\n'")
    assert "host-secret" not in r.stdout + r.stderr
    assert "PATH=" in r.stdout


def test_a_fork_bomb_is_contained(run, sandbox):
    marker = f"5.{secrets.randbelow(10**9):09d}"  # in the command line of every bomb
    r = run(f"bomb() {{ bomb | bomb & }}; bomb; sleep {marker}", timeout_s=15, processes=64)
    # The bomb runs into the limit, and the command ends at its own pace (not at the timeout,
    # three times as long), the bomb with it.
    assert not r.timed_out, r
    assert "fork" in r.stderr.lower()
    if sandbox.name == "bwrap" and os.geteuid() == 0:  # the pids cgroup says it was hit
        assert r.limit == "processes", r
    assert left_running(marker) == []  # nothing of it is left on the host


def test_allocating_8_gb_fails_inside(run):
    r = run("python3 -c 'x = bytearray(8 * 1024**3); print(len(x))'", memory_mb=1024)
    assert r.exit_code != 0 and r.limit == "memory" and str(8 * 1024**3) not in r.stdout


def test_an_infinite_loop_is_killed_at_the_timeout(run, work):
    # Killed within ten times the timeout, by the command's own clock: else late.txt is there.
    late, marker = referee(10)
    r = run(f"{late}while :; do :; done", timeout_s=1)
    assert r.timed_out and not r.ok
    assert settle(marker, work)  # a container is removed after its client is killed


def test_an_infinite_loop_is_stopped_by_the_cpu_limit(run):
    r = run("python3 -c 'while True: pass'", timeout_s=30, cpu_seconds=1)
    assert not r.timed_out and r.limit == "cpu"  # long before the wall timeout


def test_filling_the_disk_is_stopped(run, work):
    r = run("dd if=/dev/zero of=big bs=1M count=100000", file_size_mb=20)
    assert r.limit == "file_size" and r.exit_code != 0
    assert (work / "big").stat().st_size <= 20 * 2**20
    t = run("dd if=/dev/zero of=/tmp/big bs=1M count=100000; df -m /tmp | tail -1", tmp_mb=16)
    assert "No space left on device" in t.stderr


def test_host_processes_can_be_neither_seen_nor_signalled(run):
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        r = run(f"kill -9 {victim.pid}; ls /proc | grep -c '^[0-9]'; ps -e 2>/dev/null | wc -l")
        visible = int(r.stdout.split()[0])
        assert visible < 10  # only the sandbox's own processes
        time.sleep(0.2)
        assert victim.poll() is None  # still alive
        assert str(os.getpid()) not in run("ls /proc").stdout.split()
    finally:
        victim.kill()


def test_capabilities_are_dropped(run):
    r = run("grep CapEff /proc/self/status; mount -t tmpfs x /mnt 2>&1; echo end")
    assert "CapEff:\t0000000000000000" in r.stdout


def test_private_tls_keys_are_not_visible(run):
    # Certificates are there for TLS clients; the folder of private keys is not there at all.
    r = run("test -e /etc/ssl/private && echo present; echo checked")
    assert r.stdout == "checked\n"


def _sysctl(name):
    return Path("/proc/sys", name)


def test_host_kernel_settings_cannot_be_written(run):
    # As root, a writable /proc/sys would let a command set kernel.core_pattern: a program the
    # host runs as root at the next crash. printk_ratelimit gets a different, harmless value;
    # core_pattern and the IRQ affinity only their own values back. Whatever happens, the host's
    # values are restored.
    ratelimit, core = _sysctl("kernel/printk_ratelimit"), _sysctl("kernel/core_pattern")
    affinity = Path("/proc/irq/default_smp_affinity")
    before = {path: path.read_text() for path in (ratelimit, core, affinity) if path.exists()}
    changed = str(int(before[ratelimit]) + 1)
    same = "".join(
        f"cat {path} > /tmp/v && cat /tmp/v > {path} && echo WROTE-{path.name}; "
        for path in before
        if path != ratelimit
    )
    try:
        r = run(f"echo {changed} > {ratelimit} && echo WROTE-RATELIMIT; {same} echo end")
        assert r.stdout.endswith("end\n")
        assert "WROTE" not in r.stdout, r.stdout
        assert {path: path.read_text() for path in before} == before
    finally:
        for path, value in before.items():
            if path.read_text() != value:
                path.write_text(value)


def test_kernel_keys_and_timers_are_masked(run):
    # They list host processes and keys; present or not on this kernel, nothing shows inside.
    r = run(
        "cat /proc/keys /proc/timer_list /proc/kcore 2>/dev/null | wc -c; "
        "ls /proc/acpi 2>/dev/null | wc -l"
    )
    assert r.stdout.split() == ["0", "0"], r


def _home_sandbox(sandbox, home):
    """The sandbox a run uses, as `runtime.run_sandbox` opens it for a home."""
    return run_sandbox(Config(home=home), sandbox.name)


ATTACK_HOME = (
    "cat {h}/events.db {h}/opensage.toml; ls -a {h}; "
    "echo planted > {h}/opensage.toml; echo x >> {h}/events.db; rm -f {h}/events.db; "
    "touch {h}/new; mv {h} moved; mv {parent} moved-parent; "
    "mkdir -p {h}; echo planted > {h}/opensage.toml; "
    "ln {h}/events.db link; echo done"
)


@pytest.mark.parametrize("layout", [".opensage", "users/me/.opensage"])
def test_the_opensage_home_inside_the_work_dir_is_hidden(sandbox, work, layout):
    # A run in $HOME with the home ~/.opensage: every run's tasks are in events.db, and the
    # home's opensage.toml is trusted by the next run.
    home = work / layout
    home.mkdir(parents=True)
    (home / "events.db").write_text("SECRET-TASK")
    (home / "opensage.toml").write_text("# the user's own\n")
    before = {p.name: p.read_text() for p in home.iterdir()}
    box = _home_sandbox(sandbox, home)
    cmd = ATTACK_HOME.format(h=layout, parent=str(Path(layout).parent))
    r = asyncio.run(box.exec(cmd, workdir=work, timeout_s=30))
    assert r.stdout.endswith("done\n"), r
    assert "SECRET" not in r.stdout + r.stderr and "events.db" not in r.stdout
    assert {p.name: p.read_text() for p in home.iterdir()} == before
    copied = [f for f in work.rglob("*") if f.is_file() and home not in f.parents]
    assert not any("SECRET" in f.read_text() for f in copied)
    ok = asyncio.run(box.exec("echo fine > beside.txt", workdir=work, timeout_s=30))
    assert ok.exit_code == 0 and (work / "beside.txt").read_text() == "fine\n"


def test_a_missing_home_inside_the_work_dir_cannot_be_planted(sandbox, work):
    home = work / ".opensage"
    r = asyncio.run(
        _home_sandbox(sandbox, home).exec(
            "mkdir -p .opensage; echo planted > .opensage/opensage.toml; echo done",
            workdir=work,
            timeout_s=30,
        )
    )
    assert r.stdout == "done\n" and list(home.iterdir()) == []


def test_a_work_dir_that_is_the_home_is_refused(sandbox, work):
    with pytest.raises(PermissionError, match="is OpenSage's home"):
        asyncio.run(_home_sandbox(sandbox, work).exec("true", workdir=work))


PTRACE = {"x86_64": 101, "aarch64": 117}[platform.machine()]  # perl calls it by number
ATTACH, SEIZE = 16, 0x4206


def test_tracing_pid_1_does_not_hang_the_sandbox(run):
    # Pid 1 reports the command's end: stopped by a tracer, it kept the sandbox to its timeout.
    r = run(
        f"perl -e 'syscall({PTRACE}, {ATTACH}, 1, 0, 0) == 0 and print qq(attached\\n)'; "
        f"perl -e 'syscall({PTRACE}, {SEIZE}, 1, 0, 0) == 0 and print qq(seized\\n)'; "
        "echo after",
        timeout_s=20,
    )
    assert not r.timed_out, r  # the end was reported: a stopped pid 1 kept it to the timeout
    assert r.stdout == "after\n", r


def test_this_python_and_its_packages_cannot_be_written(run):
    # Both backends show the host's interpreter and virtualenv inside, at their own paths:
    # read-only, or a command could plant code that the host's next `import` runs.
    name = f"planted-{secrets.token_hex(4)}.py"
    code = (
        "import sys, pathlib\n"
        "for d in sys.argv[1:]:\n"
        "    try:\n"
        f"        (pathlib.Path(d) / '{name}').write_text('x'); print('WROTE', d)\n"
        "    except OSError as e:\n"
        "        print('refused', d, e)\n"
    )
    dirs = sorted({sys.prefix, sys.base_prefix, sysconfig.get_paths()["purelib"]})
    host = [Path(d) / name for d in dirs]
    try:
        r = run([sys.executable, "-c", code, *dirs])
        assert r.stdout.count("refused") == len(dirs) and "WROTE" not in r.stdout, r
        assert not any(p.exists() for p in host)
    finally:
        for p in host:
            p.unlink(missing_ok=True)


FORK_SLEEPERS = """
import os, time
started = 0
for _ in range(200):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    started += 1
print(started)
"""


def test_the_process_limit_bounds_how_many_processes_run(run, sandbox):
    r = run(["python3", "-c", FORK_SLEEPERS], processes=64)
    started = int(r.stdout)
    assert 40 <= started < 64, r  # the sandbox's own few processes count too
    if sandbox.name == "bwrap" and os.geteuid() == 0:  # the pids cgroup says it was hit
        assert r.limit == "processes", r


def test_a_command_cannot_lift_its_memory_limit(run, work):
    # The hard limit is the limit: a command may lower its soft one, never raise it.
    (work / "lift.py").write_text(
        "import resource\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_AS)\n"
        "resource.setrlimit(resource.RLIMIT_AS, (hard, hard))\n"
        "print(len(bytearray(2 * 1024**3)))\n"
    )
    r = run("ulimit -v unlimited; python3 lift.py", memory_mb=512)
    assert r.exit_code != 0 and r.limit == "memory", r
    assert str(2 * 1024**3) not in r.stdout
