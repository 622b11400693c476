"""`fuzz`: libFuzzer binaries and atheris targets fuzzed in the bwrap sandbox, on small targets the
tests write and build with the kit's `build(fuzzer=True)` (ASan and UBSan): a planted bug found
and minimized, crashing seeds found at once and grouped by signature, a dictionary used, crash,
leak, timeout and oom kept apart, progress reported, and the sandbox's limits reported."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

from opensage.core.tools import ToolError
from opensage.kits.security.build import build
from opensage.kits.security.fuzz import run_fuzz
from opensage.kits.security.fuzz_report import FuzzReport
from opensage.kits.security.fuzz_targets import python_crash
from opensage.kits.security.libfuzzer import fuzzing_env, parse_stats
from opensage.kits.security.workbench import Workbench
from opensage.sandbox import SandboxLimits, open_sandbox
from opensage.sandbox.container import ContainerSandbox

HEADER = """\
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
static volatile char sink;  /* what the optimizer must keep: a read of each copy */
static char *volatile kept;  /* and each allocation */
"""

# A bug behind four nested byte checks: coverage guidance (each check is a new edge) reaches it.
PLANTED = (
    HEADER
    + """\
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= 5 && data[0] == 'F') {
    if (data[1] == 'U') {
      if (data[2] == 'Z') {
        if (data[3] == 'Z') {
          char *copy = malloc(4);
          memcpy(copy, data, size);  /* line 14: heap-buffer-overflow */
          sink = copy[0];
          free(copy);
        }
      }
    }
  }
  return 0;
}
"""
)


def fnv(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


# Bugs behind a 32-bit hash of the first 8 bytes: no mutation finds them in seconds (the fuzzer
# would need a preimage), so finding one shows that a seed or the dictionary brought it.
HASHED = (
    HEADER
    + f"""\
static uint32_t fnv(const uint8_t *d, size_t n) {{
  uint32_t h = 0x811C9DC5u;
  for (size_t i = 0; i < n; i++) h = (h ^ d[i]) * 0x01000193u;
  return h;
}}
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {{
  if (size < 8) return 0;
  uint32_t h = fnv(data, 8);
  if (h == {fnv(b"OVERFLOW")}u) {{
    char *copy = malloc(8);
    memcpy(copy, data, size);  /* line 18: heap-buffer-overflow */
    sink = copy[0];
    free(copy);
  }}
  if (h == {fnv(b"LEAKLEAK")}u) {{
    kept = malloc(32);  /* line 23: leaked */
    kept = NULL;
  }}
  if (h == {fnv(b"SECRETKY")}u) {{
    volatile int *nowhere = NULL;
    *nowhere = 1;  /* line 28: SEGV */
  }}
  return 0;
}}
"""
)

HANG = (
    HEADER
    + """\
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= 3 && data[0] == 'H') {
    if (data[1] == 'N') {
      if (data[2] == 'G') {
        volatile unsigned long spin = 0;
        while (1) spin++;  /* line 13 */
      }
    }
  }
  return 0;
}
"""
)

# No bug: a little parser for the fuzzer to cover.
CLEAN = (
    HEADER
    + """\
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int score = 0;
  for (size_t i = 0; i < size; i++) {
    if (data[i] == '{') score++;
    else if (data[i] == '}') score--;
    else if (data[i] >= '0' && data[i] <= '9') score += 2;
  }
  return score > 1000 ? 1 : 0;
}
"""
)

# Asks for 600 MB on a magic prefix: over a 512 MB memory limit.
GREEDY = (
    HEADER
    + """\
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size >= 3 && data[0] == 'O' && data[1] == 'O' && data[2] == 'M') {
    char *block = malloc(600u << 20);  /* line 10 */
    if (block) { memset(block, 1, 600u << 20); sink = block[size]; free(block); }
  }
  return 0;
}
"""
)

# Writes a 2 MB file on its first input: over a 1 MB file-size limit.
WRITER = (
    HEADER
    + """\
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static char block[1 << 16];
  FILE *out = fopen("big.out", "w");
  for (int i = 0; i < 32 && out; i++) fwrite(block, 1, sizeof block, out);
  if (out) fclose(out);
  return 0;
}
"""
)

PLAIN = "int main(void) { return 0; }\n"

PYTHON_TARGET = """\
def check(data):
    if data[:4] == b"PYFZ":
        raise ValueError("planted bug")  # line 3


def TestOneInput(data):
    check(data)
"""

TARGETS = {
    "planted": PLANTED,
    "hashed": HASHED,
    "hang": HANG,
    "clean": CLEAN,
    "writer": WRITER,
    "greedy": GREEDY,
    "plain": PLAIN,
}


@pytest.fixture(scope="module")
def bwrap():
    return open_sandbox("bwrap")


@pytest.fixture
def work(tmp_path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    return root


def bench_for(work: Path, sandbox: Any, **limits: Any) -> Workbench:
    return Workbench(work, sandbox, SandboxLimits(**limits))


def make(work: Path, sandbox: Any, *names: str) -> None:
    """Builds test targets with the kit's build, each from NAME/NAME.c into NAME/out/NAME
    (libFuzzer targets with fuzzer=True, `plain` without)."""
    bench = bench_for(work, sandbox)
    for name in names:
        (work / name).mkdir()
        (work / name / f"{name}.c").write_text(TARGETS[name])
        out = asyncio.run(build(bench, fuzzer=name != "plain", path=name))
        assert f"{name}/out/{name}" in out, out


def run(
    work: Path, sandbox: Any, target: str, limits: dict[str, Any] | None = None, **kw: Any
) -> FuzzReport:
    return asyncio.run(run_fuzz(bench_for(work, sandbox, **(limits or {})), target, **kw))


@pytest.mark.slow
def test_a_planted_bug_is_found_minimized_and_reported(work, bwrap):
    make(work, bwrap, "planted")
    events: list[dict[str, Any]] = []
    report = run(
        work, bwrap, "planted/out/planted", seconds=45, jobs=2, seed=1, progress=events.append
    )
    assert len(report.new) == 1, report.text()
    bug = report.new[0]
    assert bug.kind == "crash"
    assert bug.crash is not None and bug.crash.kind == "heap-buffer-overflow"
    assert str(bug.crash.top_frame) == "LLVMFuzzerTestOneInput planted/planted.c:14"
    assert bug.found_s < 45
    # Minimized: the magic prefix and the one byte that overflows, checked to crash the same way.
    assert bug.minimized == f"fuzz/planted/crashes/minimized-{bug.signature}"
    assert bug.minimized_size == 5
    assert (work / bug.minimized).read_bytes()[:4] == b"FUZZ"
    assert all((work / p).is_file() for p in bug.inputs)
    assert report.workers == min(2, os.cpu_count() or 1)
    assert report.runs > 0 and report.cov is not None and report.cov > 0
    text = report.text()
    assert "1 new crash by signature" in text
    assert f"[{bug.signature}] heap-buffer-overflow (crash)" in text
    assert "in LLVMFuzzerTestOneInput planted/planted.c:14" in text
    assert f"minimized: {bug.minimized} (5 bytes)" in text
    assert "exec/s" in text and "coverage" in text
    assert {e["worker"] for e in events} <= {0, 1}


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["bwrap", "container"])
def test_an_atheris_target_is_found_and_minimized(work, backend):
    """On both backends: a container image has no atheris of its own (Debian packages none), so
    the fuzzer runs OpenSage's own interpreter, which the sandbox shows read-only."""
    (work / "target.py").write_text(PYTHON_TARGET)
    report = run(work, open_sandbox(backend), "target.py", seconds=30, seed=1)
    assert len(report.new) == 1, report.text()
    bug = report.new[0]
    assert report.target.engine == "atheris"
    assert bug.kind == "crash" and bug.crash is not None
    assert bug.crash.kind == "ValueError"
    assert str(bug.crash.top_frame) == "check target.py:3"
    assert bug.minimized is not None and (work / bug.minimized).read_bytes() == b"PYFZ"
    assert report.cov is not None and report.cov > 0  # the target was instrumented
    assert "ValueError (crash) in check target.py:3" in report.text()


@pytest.mark.slow
def test_crashing_seeds_are_found_at_once_grouped_by_signature_and_kinds_apart(work, bwrap):
    make(work, bwrap, "hashed")
    seeds = work / "seeds"
    seeds.mkdir()
    (seeds / "a").write_bytes(b"OVERFLOW-a")  # two inputs, one bug
    (seeds / "b").write_bytes(b"OVERFLOW-bb")
    (seeds / "c").write_bytes(b"LEAKLEAK")  # another bug, of another kind
    (work / "one").write_bytes(b"harmless")
    seen: set[str] = set()
    report = run(
        work,
        bwrap,
        "hashed/out/hashed",
        seconds=8,
        seeds=["seeds", "one"],
        minimize=False,
        seen=seen,
    )
    by_kind = {f.kind: f for f in report.findings}
    assert sorted(by_kind) == ["crash", "leak"], report.text()
    overflow, leak = by_kind["crash"], by_kind["leak"]
    assert overflow.crash is not None and overflow.crash.kind == "heap-buffer-overflow"
    assert str(overflow.crash.top_frame) == "LLVMFuzzerTestOneInput hashed/hashed.c:18"
    assert sorted(overflow.sizes) == [10, 11] and len(overflow.inputs) == 2
    assert leak.crash is not None and leak.crash.kind == "memory-leak"
    assert leak.inputs[0].startswith("fuzz/hashed/crashes/leak-")
    assert overflow.signature != leak.signature
    assert overflow.found_s < 5 and leak.found_s < 5  # the seeds' own crashes, at once
    assert seen == {overflow.signature, leak.signature}
    assert "2 new crashes by signature (from 3 crashing inputs)" in report.text()
    # The crashing seeds left the corpus (else each restart stops on them); the other stays.
    assert len(os.listdir(work / "fuzz/hashed/corpus")) >= 1
    again = run(
        work, bwrap, "hashed/out/hashed", seconds=3, seeds="seeds", minimize=False, seen=seen
    )
    assert not again.new and {f.known for f in again.findings} == {True}
    assert "found again (reported before)" in again.text()


@pytest.mark.slow
def test_the_dictionary_brings_a_token_the_fuzzer_cannot_guess(work, bwrap):
    make(work, bwrap, "hashed")
    (work / "tokens.dict").write_text('# tokens\nkw1="SECRETKY"\n')
    report = run(
        work,
        bwrap,
        "hashed/out/hashed",
        seconds=40,
        dictionary="tokens.dict",
        seed=3,
        minimize=False,
    )
    kinds = {f.crash.kind for f in report.findings if f.crash is not None}
    assert "SEGV" in kinds, report.text()
    (work / "bad.dict").write_text("this is not a dictionary\n")
    with pytest.raises(ToolError, match="could not start"):
        run(work, bwrap, "hashed/out/hashed", seconds=5, dictionary="bad.dict")


@pytest.mark.slow
def test_a_hang_is_a_timeout_kept_apart_and_not_minimized(work, bwrap):
    make(work, bwrap, "hang")
    report = run(work, bwrap, "hang/out/hang", seconds=20, input_timeout_s=1, seed=2)
    assert [f.kind for f in report.new] == ["timeout"], report.text()
    hang = report.new[0]
    assert hang.crash is not None and hang.crash.kind == "timeout"
    assert hang.inputs[0].startswith("fuzz/hang/crashes/timeout-")
    assert hang.minimized is None and "not minimized: a timeout" in hang.note


@pytest.mark.slow
def test_progress_reports_exec_per_second_and_coverage(work, bwrap):
    make(work, bwrap, "clean")
    events: list[dict[str, Any]] = []
    report = run(work, bwrap, "clean/out/clean", seconds=4, progress=events.append)
    assert not report.findings and "no crashes found" in report.text()
    assert events[0]["event"] == "INITED" and events[-1]["event"] == "DONE"
    done = events[-1]
    assert done["exec_per_s"] > 0 and done["cov"] > 0 and done["runs"] > 0
    assert all(e["worker"] == 0 and "elapsed_s" in e for e in events)
    assert report.runs >= done["runs"] and report.exec_per_s > 0
    assert report.cov == max(e.get("cov", 0) for e in events)
    assert report.corpus_files > 0


@pytest.mark.slow
def test_the_sandbox_limits_are_reported(work, bwrap):
    make(work, bwrap, "writer", "greedy")
    with pytest.raises(
        ToolError,
        match=r"file-size limit \(1 MB per file\) after [\d.]+ s: "
        r"the target writes a file larger than that",
    ):
        run(work, bwrap, "writer/out/writer", limits={"file_size_mb": 1}, seconds=5)
    assert (work / "big.out").stat().st_size <= 1 << 20
    # Memory: no address-space limit (ASan needs terabytes of it), but libFuzzer's RSS and
    # malloc limits a tenth below the sanitizers' make an input over it an oom finding.
    report = run(work, bwrap, "greedy/out/greedy", limits={"memory_mb": 512}, seconds=20, seed=1)
    assert [f.kind for f in report.new] == ["oom"], report.text()
    oom = report.new[0]
    assert oom.crash is not None and oom.crash.kind == "out-of-memory"
    assert str(oom.crash.top_frame) == "LLVMFuzzerTestOneInput greedy/greedy.c:10"
    assert oom.inputs[0].startswith("fuzz/greedy/crashes/oom-")


@pytest.mark.slow
def test_what_is_not_a_fuzz_target_is_refused_with_what_to_do(work, bwrap):
    make(work, bwrap, "plain", "clean")
    with pytest.raises(ToolError, match=r"not a libFuzzer target.*build\(fuzzer=True\)"):
        run(work, bwrap, "plain/out/plain")
    with pytest.raises(ToolError, match="neither a program"):
        run(work, bwrap, "clean/clean.c")
    (work / "nothing.py").write_text("print('hello')\n")
    with pytest.raises(ToolError, match=r"define TestOneInput\(data: bytes\)"):
        run(work, bwrap, "nothing.py")
    with pytest.raises(ToolError, match="outside the work directory"):
        (work.parent / "outside").write_bytes(b"\x7fELF")
        run(work, bwrap, "../outside")
    with pytest.raises(ToolError, match="does not exist"):
        run(work, bwrap, "missing")
    with pytest.raises(ToolError, match="seed 'nope' does not exist"):
        run(work, bwrap, "clean/out/clean", seeds="nope")
    # The fuzz folder is made without following a symlink out of the work dir.
    (work / "fuzz").symlink_to(work.parent)
    with pytest.raises(ToolError, match="not a folder"):
        run(work, bwrap, "clean/out/clean", seconds=2)
    assert not (work.parent / "clean").exists()


def test_fuzz_checks_its_arguments(work, bwrap):
    (work / "target.py").write_text(PYTHON_TARGET)
    with pytest.raises(ToolError, match="seconds must be between 1 and 3600"):
        asyncio.run(run_fuzz(bench_for(work, bwrap), "target.py", seconds=0))
    with pytest.raises(ToolError, match="jobs must be 1 or more"):
        asyncio.run(run_fuzz(bench_for(work, bwrap), "target.py", jobs=0))


def test_stats_lines_are_parsed():
    line = (
        "#4096\tNEW    cov: 45 ft: 60 corp: 12/340b lim: 8 exec/s: 61728 rss: 40Mb L: 4/8 "
        "MS: 2 ChangeByte-CopyPart-"
    )
    assert parse_stats(line) == {
        "event": "NEW",
        "runs": 4096,
        "cov": 45,
        "ft": 60,
        "corpus": 12,
        "exec_per_s": 61728,
        "rss_mb": 40,
    }
    assert parse_stats("#2097152\tpulse  corp: 1/1b lim: 4096 exec/s: 1048576 rss: 40Mb") == {
        "event": "pulse",
        "runs": 2097152,
        "corpus": 1,
        "exec_per_s": 1048576,
        "rss_mb": 40,
    }
    assert parse_stats("INFO: Seed: 1") is None
    assert parse_stats("#1 in main /src/x.c:3") is None


def test_the_fuzzer_keeps_the_sanitizers_options_but_their_allocation_limits(tmp_path, bwrap):
    bench = bench_for(tmp_path, bwrap, memory_mb=512)
    env = bench.sanitizer_env(asyncio.run(bench.toolchain()))
    fuzzing = fuzzing_env(env)
    assert set(fuzzing) == set(env)
    for name, value in fuzzing.items():
        options = value.split(":")
        assert not [
            o for o in options if o.startswith(("max_allocation_size_mb=", "malloc_limit_mb="))
        ]
        assert options == [
            o
            for o in env[name].split(":")
            if o.split("=")[0] not in ("max_allocation_size_mb", "malloc_limit_mb")
        ]
    assert "hard_rss_limit_mb=512" in fuzzing["ASAN_OPTIONS"]


def test_a_python_traceback_is_a_crash_with_a_signature(tmp_path):
    text = f"""
 === Uncaught Python exception: ===
KeyError: 'name'
Traceback (most recent call last):
  File "<string>", line 8, in <module>
  File "{tmp_path}/pkg/target.py", line 9, in TestOneInput
    parse(data)
  File "{tmp_path}/pkg/parse.py", line 4, in parse
    return table[data]
  File "/usr/lib/python3.11/json/decoder.py", line 2, in lookup
KeyError: 'name'
"""
    crash = python_crash(text, tmp_path)
    assert crash is not None and crash.kind == "KeyError" and crash.sanitizer == "Python"
    assert [str(f) for f in crash.frames] == [
        "lookup /usr/lib/python3.11/json/decoder.py:2",
        "parse pkg/parse.py:4",
        "TestOneInput pkg/target.py:9",
        "<module> <string>:8",
    ]
    other_line = python_crash(text.replace("line 4", "line 5"), tmp_path)
    other_lib = python_crash(text.replace("line 2, in lookup", "line 3, in lookup"), tmp_path)
    assert other_line is not None and other_lib is not None
    assert other_line.signature != crash.signature  # another place in the project's code
    assert other_lib.signature == crash.signature  # the same, outside the work dir
    assert python_crash("no exception here", tmp_path) is None


@pytest.mark.slow
def test_the_container_backend_fuzzes_too(work):
    """The image (scripts/build-sandbox-image.sh) has clang, libFuzzer and the symbolizer; its
    memory limit is a cgroup's and stays."""
    container = open_sandbox("container")
    make(work, container, "planted")
    report = run(
        work, container, "planted/out/planted", limits={"memory_mb": 1024}, seconds=30, seed=1
    )
    assert len(report.new) == 1, report.text()
    bug = report.new[0]
    assert bug.crash is not None and bug.crash.kind == "heap-buffer-overflow"
    assert str(bug.crash.top_frame) == "LLVMFuzzerTestOneInput planted/planted.c:14"
    assert bug.minimized_size == 5 and report.exec_per_s > 0


@pytest.mark.slow
def test_a_sandbox_where_no_python_has_atheris_says_what_to_install(work):
    """A container without OpenSage's Python shown, whose image has no atheris."""
    (work / "target.py").write_text(PYTHON_TARGET)
    with pytest.raises(ToolError, match=r"atheris cannot be imported in the sandbox.*pip install"):
        run(work, ContainerSandbox(python=False), "target.py", seconds=5)
