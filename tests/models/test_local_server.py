"""The local model's server process never outlives OpenSage: killed with SIGKILL (nothing can
clean up), its parent takes the server with it, even one that would finish its work first on
SIGTERM as llama.cpp's server does with a generation in flight."""

import os
import signal
import subprocess
import sys
import time

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
