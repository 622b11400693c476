"""`build` + `write_poc` + `run_poc` in the bwrap sandbox, on programs with planted bugs: each bug
reported with its kind, access and the file:line of its top project frame; the PoC script runs
in the sandbox and cannot touch the host; a timeout, a plain exit and a signal told apart."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from opensage.core.tools import ToolError
from opensage.kits.security.build import build
from opensage.kits.security.poc import execute, hexdump, run_poc, write_poc
from opensage.kits.security.workbench import Workbench
from opensage.sandbox import SandboxLimits, open_sandbox
from tests.kits.security.programs import (
    HEAP,
    INPUT,
    MODES,
    STACK,
    UAF,
    bench,
    line_of,
    need_clang,
    run,
    write,
)


@pytest.fixture(scope="module")
def bwrap():
    return open_sandbox("bwrap")


@pytest.fixture(scope="module")
def built(tmp_path_factory, bwrap) -> Workbench:
    """heap, uaf, stack and modes, built once with ASan and UBSan (the defaults)."""
    need_clang()
    root = write(
        tmp_path_factory.mktemp("poc") / "work",
        {"input.c": INPUT, "heap.c": HEAP, "uaf.c": UAF, "stack.c": STACK, "modes.c": MODES},
    )
    work = bench(root, bwrap)
    report = run(build(work))
    assert "4 executables" in report, report
    return work


def poc(work: Workbench, name: str, data: bytes) -> str:
    (work.root / name).write_bytes(data)
    return name


@pytest.mark.parametrize(
    ("program", "source", "data", "kind", "access", "function"),
    [
        ("heap", HEAP, b"\x14", "heap-buffer-overflow", "WRITE of size 1", "store"),
        ("uaf", UAF, b"U", "heap-use-after-free", "READ of size 4", "main"),
        ("stack", STACK, b"\x0a", "stack-buffer-overflow", "READ of size 1", "pick"),
    ],
)
def test_each_planted_bug_is_reported_with_its_kind_and_line(
    built, program, source, data, kind, access, function
):
    outcome = run(execute(built, f"out/{program}", poc(built, f"{program}.in", data)))
    assert outcome.crashed, outcome.describe(10)
    crash = outcome.crash
    assert crash is not None
    assert crash.kind == kind
    assert crash.access == access
    line = line_of(source, program.upper())
    assert str(crash.top_frame) == f"{function} {program}.c:{line}"
    text = run(run_poc(built, f"out/{program}", f"{program}.in"))
    assert text.startswith("CRASHED")
    assert f"{kind} (AddressSanitizer), {access}" in text
    assert f"{function} {program}.c:{line}" in text
    assert f"signature: {crash.signature}" in text
    # The same program on a harmless input: no crash.
    clean = run(execute(built, f"out/{program}", poc(built, f"{program}.ok", b"\x01")))
    assert not clean.crashed and clean.exit_code == 0


def test_the_report_says_where_the_memory_was_allocated_and_freed(built):
    text = run(run_poc(built, "out/uaf", poc(built, "u", b"U")))
    assert f"freed by thread T0: main uaf.c:{line_of(UAF, 'UAF') - 1}" in text
    assert "previously allocated by thread T0: main uaf.c:" in text
    text = run(run_poc(built, "out/stack", poc(built, "s", b"\x0a")))
    assert "'name'" in text and "overflows this variable" in text


def test_a_timeout_and_a_plain_non_zero_exit_are_not_crashes(built):
    hang = run(execute(built, "out/modes", poc(built, "h", b"H"), timeout_s=1.5))
    assert hang.timed_out and not hang.crashed and hang.crash is None
    assert hang.describe(1.5).startswith("no crash: it timed out after 1.5 s")
    exit3 = run(execute(built, "out/modes", poc(built, "e", b"E")))
    assert (exit3.crashed, exit3.exit_code, exit3.timed_out) == (False, 3, False)
    text = run(run_poc(built, "out/modes", "e"))
    assert text.startswith("no crash: a plain non-zero exit (exit code 3)")
    fine = run(run_poc(built, "out/modes", poc(built, "f", b"-")))
    assert fine.startswith("no crash: it exited normally (exit code 0)")
    assert "fine" in fine  # its stdout


def test_sanitizer_kinds_beyond_memory_errors(built):
    segv = run(execute(built, "out/modes", poc(built, "sg", b"S\x00")))
    assert segv.crashed and segv.crash is not None
    assert (segv.crash.kind, segv.crash.access) == ("SEGV", "READ")
    assert str(segv.crash.top_frame) == f"main modes.c:{line_of(MODES, 'SEGV')}"
    overflow = run(execute(built, "out/modes", poc(built, "ov", b"O\x05")))
    assert overflow.crash is not None
    assert overflow.crash.kind == "signed-integer-overflow"
    assert overflow.crash.sanitizer == "UndefinedBehaviorSanitizer"
    assert str(overflow.crash.top_frame) == f"twice modes.c:{line_of(MODES, 'OVERFLOW')}"
    leak = run(execute(built, "out/modes", poc(built, "lk", b"L")))
    assert leak.crashed and leak.crash is not None
    assert (leak.crash.kind, leak.crash.sanitizer) == ("memory-leak", "LeakSanitizer")
    aborted = run(execute(built, "out/modes", poc(built, "ab", b"A")))
    assert aborted.crash is not None and aborted.crash.kind == "ABRT"  # handle_abort=1


def test_memory_is_bounded_by_the_sanitizer_not_by_an_address_space_limit(built):
    """ASan reserves terabytes of address space: under an address-space limit of 256 MB it
    could not start. It runs, and its own limit stops it at 256 MB of resident memory."""
    tight = Workbench(built.root, built.sandbox, SandboxLimits(memory_mb=256))
    assert "ASAN_OPTIONS" in tight.sanitizer_env(run(tight.toolchain()))
    assert run(execute(tight, "out/modes", poc(built, "fine", b"-"))).exit_code == 0
    hog = run(execute(tight, "out/modes", poc(built, "m", b"M"), timeout_s=20))
    assert hog.crashed and hog.crash is not None, hog.describe(20)
    assert hog.crash.kind == "out-of-memory"
    assert hog.crash.description is not None
    assert "hard rss limit exhausted (256Mb vs" in hog.crash.description


def test_a_death_by_signal_without_a_sanitizer_is_a_crash_named_by_its_signal(tmp_path, bwrap):
    need_clang()
    work = bench(write(tmp_path / "plain", {"input.c": INPUT, "modes.c": MODES}), bwrap)
    assert "out/modes" in run(build(work, sanitizers=[]))
    segv = run(execute(work, "out/modes", poc(work, "s", b"S\x00")))
    assert segv.crashed and segv.crash is not None
    assert segv.crash.kind == "signal SIGSEGV" and segv.crash.sanitizer == "signal"
    aborted = run(execute(work, "out/modes", poc(work, "a", b"A")))
    assert aborted.crash is not None and aborted.crash.kind == "signal SIGABRT"
    assert not (work.root / "core").exists()  # no core dump left in the work dir
    assert run(execute(work, "out/modes", poc(work, "e", b"E"))).crash is None


def test_args_place_the_input_or_give_it_on_stdin(tmp_path, bwrap):
    need_clang()
    source = """\
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
  char line[64] = {0};
  if (argc > 2 && strcmp(argv[1], "--file") == 0) { FILE *f = fopen(argv[2], "r");
    fgets(line, sizeof line, f); }
  else fgets(line, sizeof line, stdin);
  printf("[%d] %s\\n", argc, line);
  return 0;
}
"""
    work = bench(write(tmp_path / "args", {"echo.c": source}), bwrap)
    run(build(work))
    poc(work, "in", b"hello")
    assert "[3] hello" in run(run_poc(work, "out/echo", "in", args=["--file", "{poc}"]))
    assert "[2] hello" in run(run_poc(work, "out/echo", "in", args=["-"]))  # stdin
    with pytest.raises(ToolError, match="args must be a list of strings"):
        run(run_poc(work, "out/echo", "in", args="--file"))  # type: ignore[arg-type]


def test_run_poc_refuses_what_is_not_there(built):
    poc(built, "h", b"H")
    with pytest.raises(ToolError, match=r"(?s)'out/nope' does not exist.*out/heap"):
        run(run_poc(built, "out/nope", "h"))
    with pytest.raises(ToolError, match="'missing' does not exist"):
        run(run_poc(built, "out/heap", "missing"))
    with pytest.raises(ToolError, match="outside the work directory"):
        run(run_poc(built, "/bin/true", "h"))
    with pytest.raises(ToolError, match="outside the work directory"):
        run(run_poc(built, "out/heap", "../../etc/passwd"))


def test_write_poc_runs_the_script_in_the_sandbox_and_shows_the_file(tmp_path, bwrap):
    work = bench(write(tmp_path / "w", {}), bwrap)
    script = (
        "import os, sys\n"
        "assert os.environ['POC_PATH'] == sys.argv[1]\n"
        "data = b'GIF89a' + bytes(range(70))\n"
        "open(sys.argv[1], 'wb').write(data)\n"
        "print('made', len(data))\n"
    )
    text = run(write_poc(work, script, "pocs/gif"))
    assert text.splitlines()[0] == "wrote pocs/gif: 76 bytes"
    assert "00000000: 4749 4638 3961 0001 0203 0405 0607 0809  GIF89a.........." in text
    assert "[... 12 more bytes]" in text and "made 76" in text
    assert (work.root / "pocs/gif").read_bytes() == b"GIF89a" + bytes(range(70))
    # Writing the file `output` itself works too: the script runs in the work dir.
    run(write_poc(work, "open('poc', 'wb').write(b'AB')"))
    assert (work.root / "poc").read_bytes() == b"AB"
    # A new run replaces the file; a script that fails says why, one that writes nothing too.
    with pytest.raises(ToolError, match=r"(?s)exit code 1.*ZeroDivisionError"):
        run(write_poc(work, "1 / 0"))
    with pytest.raises(ToolError, match=r"(?s)wrote no file at 'poc'.*sys.argv\[1\]"):
        run(write_poc(work, "pass"))
    with pytest.raises(ToolError, match="outside the work directory"):
        run(write_poc(work, "pass", "../escape"))


def test_the_poc_script_cannot_touch_the_host(tmp_path, bwrap, home):
    """The script tries to write outside the work dir (a host folder, a system folder) and to
    read the host's home (a secret planted in a stand-in, the real home, OpenSage's home); it
    records what happened in the input it writes."""
    host_home = tmp_path / "host-home"
    write(host_home, {"secret.txt": "TOKEN-1234"})
    write(home, {"config.toml": "api_key = 'HOME-SECRET'"})
    outside = tmp_path / "outside.txt"
    system = Path("/usr/opensage-poc-was-here")
    root = write(tmp_path / "work", {})
    script = f"""
import os, sys
results = []
for attempt, action in [
        ("write-outside", lambda: open({str(outside)!r}, "w").write("pwned")),
        ("write-system", lambda: open({str(system)!r}, "w").write("pwned")),
        ("read-home", lambda: open({str(host_home / "secret.txt")!r}).read()),
        ("list-home", lambda: os.listdir({str(host_home)!r})),
        ("list-real-home", lambda: sorted(os.listdir({str(Path.home())!r}))),
        ("read-opensage-home", lambda: open({str(home / "config.toml")!r}).read())]:
    try:
        results.append(f"{{attempt}}: did {{action()!r}}")
    except OSError as exc:
        results.append(f"{{attempt}}: refused {{type(exc).__name__}}")
open(sys.argv[1], "w").write("\\n".join(results))
"""
    work = Workbench(root, open_sandbox("bwrap", hidden=[home]), hidden=(home,))
    run(write_poc(work, script))
    log = dict(line.split(": ", 1) for line in (root / "poc").read_text().splitlines())
    # Nothing reached the host: the write outside went to the sandbox's private /tmp, if
    # anywhere; the system is read-only.
    assert not outside.exists() and not system.exists()
    assert log["write-system"].startswith("refused")
    for attempt in ("read-home", "list-home", "read-opensage-home"):
        assert log[attempt].startswith("refused"), log
    assert "TOKEN-1234" not in str(log) and "HOME-SECRET" not in str(log)
    # Of the real home, only the folders leading to this Python (shown read-only) are there.
    python = {
        Path(p).relative_to(Path.home()).parts[0]
        for p in (sys.prefix, sys.base_prefix)
        if Path(p).is_relative_to(Path.home())
    }
    seen = log["list-real-home"]
    assert seen.startswith("refused") or set(ast.literal_eval(seen.removeprefix("did "))) <= python


def test_hexdump_has_xxd_layout():
    assert hexdump(b"AB\x00\xff") == "00000000: 4142 00ff" + " " * 30 + "  AB.."
    assert hexdump(b"") == "(empty file)"


def test_a_timeout_needs_a_sane_value(built):
    with pytest.raises(ToolError, match="timeout_s must be between"):
        run(run_poc(built, "out/heap", "h", timeout_s=0))
