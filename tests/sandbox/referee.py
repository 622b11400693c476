"""A referee for tests of killing: the sandboxed command's own clock, not the test's, says
whether it was stopped in time, so a loaded machine cannot fail such a test."""

import contextlib
import secrets
import time
from pathlib import Path


def referee(after_s: int) -> tuple[str, str]:
    """A shell prefix that starts a child which, unless it is killed first, writes `late.txt`
    in the work dir `after_s` seconds after it started; and a marker that the command line of
    each of the command's processes holds (see `settle`)."""
    marker = f"{after_s}.{secrets.randbelow(10**9):09d}"
    return f"(sleep {marker}; echo late > late.txt) & ", marker


def running_with(marker: str) -> list[int]:
    """The processes, on the whole host, whose command line holds `marker`."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if marker.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
    return found


def left_running(marker: str, limit_s: float = 10) -> list[int]:
    """The processes with `marker` still there after up to `limit_s` (killed processes take a
    moment to go): none, unless something escaped its sandbox."""
    deadline = time.monotonic() + limit_s
    while (found := running_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def settle(marker: str, workdir: Path, limit_s: float = 120) -> bool:
    """Wait until the command's processes are gone (killed, or ended on their own) or the
    referee has written `late.txt`; whether it was in time (no `late.txt`). `limit_s` only
    keeps a broken test from hanging."""
    late = workdir / "late.txt"
    deadline = time.monotonic() + limit_s
    while running_with(marker) and not late.exists():
        assert time.monotonic() < deadline, f"still running: {running_with(marker)}"
        time.sleep(0.05)
    return not late.exists()
