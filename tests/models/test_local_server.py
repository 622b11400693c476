"""The local model's server process: it waits a while for its next user once the last has
gone (the next task of a benchmark finds it warm), and it never outlives OpenSage: killed with
SIGKILL (nothing can clean up), its parent takes the server with it, even one that would finish
its work first on SIGTERM as llama.cpp's server does with a generation in flight."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from opensage.models.local import LocalServer

PARENT = """
import subprocess, sys
from opensage.models.local import _die_with_parent

stubborn = (
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(60)"
)
child = subprocess.Popen([sys.executable, "-c", stubborn], preexec_fn=_die_with_parent)
print(child.pid, flush=True)
child.wait()
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_the_server_dies_with_opensage_even_when_it_would_ignore_sigterm():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    server = int(parent.stdout.readline())
    try:
        assert parent.stdout.readline() == "ready\n"  # it ignores SIGTERM from now on
        assert alive(server)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while alive(server) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(server), "the server outlived the process that started it"
    finally:
        if alive(server):
            os.kill(server, signal.SIGKILL)


def a_running_server(monkeypatch, linger_s: float) -> LocalServer:
    """A LocalServer whose process is a stand-in (no weights needed to test its lifetime)."""
    monkeypatch.setattr(LocalServer, "linger_s", linger_s)
    server = LocalServer(Path("stand-in.gguf"))
    server._proc = subprocess.Popen(["sleep", "60"])
    return server


def test_the_last_user_leaving_stops_the_server_only_after_it_lingered(monkeypatch):
    server = a_running_server(monkeypatch, 0.5)
    try:
        server.hold()
        server.hold()
        server.release()
        server.release()
        assert server.running  # the next user may come
        time.sleep(1.0)
        assert not server.running  # nobody came
    finally:
        server.stop()


def test_a_user_coming_back_while_it_lingers_keeps_it(monkeypatch):
    server = a_running_server(monkeypatch, 0.5)
    try:
        server.hold()
        server.release()
        server.hold()  # the next task's model, before the linger ran out
        time.sleep(1.0)
        assert server.running
        server.release()
        time.sleep(1.0)
        assert not server.running
    finally:
        server.stop()


def test_with_no_linger_the_last_user_stops_it_at_once(monkeypatch):
    server = a_running_server(monkeypatch, 0)
    server.hold()
    server.release()
    assert not server.running
