"""The report parser: on real reports made by the tests' own programs (built and run in the
bwrap sandbox: ASan's other kinds, UBSan's, MSan's, TSan's) and on captured reports of what is
hard to make here (libFuzzer's own, OSS-Fuzz's paths, C++ frames, old UBSan output)."""

from __future__ import annotations

from pathlib import Path

import pytest

from opensage.kits.security.build import build
from opensage.kits.security.poc import execute
from opensage.kits.security.sanitizer import (
    Frame,
    parse_frame,
    parse_report,
    signal_crash,
    signature,
)
from opensage.sandbox import open_sandbox
from tests.kits.security.programs import INPUT, PROLOGUE, bench, line_of, need_clang, run, write

MEMORY = (
    PROLOGUE
    + """\
static char table[8];
__attribute__((noinline)) void release(char *p) {
  free(p);  /* FREE */
}
__attribute__((noinline)) int down(int n) {
  volatile char pad[512];
  pad[0] = (char)n;
  return down(n + 1) + pad[0];  /* RECURSE */
}
int main(int argc, char **argv) {
  unsigned char in[64] = {0};
  read_input(argv[1], in, sizeof in);
  char *volatile p = malloc(8);
  char *volatile t = table;
  switch (in[0]) {
  case 'D': release(p); release(p); break;
  case 'G': sink = t[in[1]]; break;  /* GLOBAL */
  case 'R': sink = down(0); break;
  case 'F': release(p + 1); break;
  }
  return 0;
}
"""
)

UNDEFINED = (
    PROLOGUE
    + """\
int main(int argc, char **argv) {
  unsigned char in[64] = {0};
  read_input(argv[1], in, sizeof in);
  volatile int value = in[1];
  int *volatile nothing = 0;
  switch (in[0]) {
  case 'S': sink = 1 << (value + 40); break;  /* SHIFT */
  case 'Z': sink = 100 / (value - in[1]); break;  /* DIVIDE */
  case 'N': sink = *nothing; break;  /* NULL */
  }
  return 0;
}
"""
)

UNINITIALIZED = (
    PROLOGUE
    + """\
int main(int argc, char **argv) {
  unsigned char in[64] = {0};
  read_input(argv[1], in, sizeof in);
  int *cells = malloc(4 * sizeof(int));
  cells[0] = in[0];
  if (cells[in[0] % 4]) sink = 1;  /* UNINIT */
  free(cells);
  return 0;
}
"""
)

RACE = """\
#include <pthread.h>
static int counter;
static void *bump(void *arg) {
  counter++;  /* RACE */
  return arg;
}
int main(void) {
  pthread_t a, b;
  pthread_create(&a, 0, bump, 0);
  pthread_create(&b, 0, bump, 0);
  pthread_join(a, 0);
  pthread_join(b, 0);
  return counter == 2 ? 0 : 1;
}
"""


def report(name: str) -> str:
    """A report captured elsewhere (OSS-Fuzz, older clang), kept as a file."""
    return (Path(__file__).parent / "reports" / name).read_text()


@pytest.fixture(scope="module")
def bwrap():
    need_clang()
    return open_sandbox("bwrap")


def crash_of(work, binary, data):
    (work.root / "in").write_bytes(data)
    outcome = run(execute(work, binary, "in"))
    assert outcome.crashed and outcome.crash is not None, outcome.describe(10)
    return outcome.crash


@pytest.fixture(scope="module")
def asan(tmp_path_factory, bwrap):
    root = write(
        tmp_path_factory.mktemp("asan") / "work",
        {"input.c": INPUT, "memory.c": MEMORY, "undefined.c": UNDEFINED},
    )
    work = bench(root, bwrap)
    run(build(work))
    return work


@pytest.mark.parametrize(
    ("data", "kind", "top"),
    [
        (b"D", "double-free", f"release memory.c:{line_of(MEMORY, 'FREE')}"),
        (b"G\x0c", "global-buffer-overflow", f"main memory.c:{line_of(MEMORY, 'GLOBAL')}"),
        (b"F", "bad-free", f"release memory.c:{line_of(MEMORY, 'FREE')}"),
    ],
)
def test_real_asan_reports(asan, data, kind, top):
    crash = crash_of(asan, "out/memory", data)
    assert crash.kind == kind and crash.sanitizer == "AddressSanitizer"
    assert str(crash.top_frame) == top
    if kind != "global-buffer-overflow":  # ASan's interceptor: not project code
        assert str(crash.frames[0]) == "free (memory)" and not crash.frames[0].project


def test_a_real_stack_overflow_by_recursion(asan):
    crash = crash_of(asan, "out/memory", b"R")
    assert crash.kind == "stack-overflow"
    assert all(f.function == "down" for f in crash.project_frames[:3])
    assert crash.top_frame is not None and crash.top_frame.file == "memory.c"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"S\x00", "invalid-shift-exponent"),
        (b"Z\x05", "integer-divide-by-zero"),
        (b"N", "null-pointer-use"),
    ],
)
def test_real_ubsan_reports(asan, data, kind):
    crash = crash_of(asan, "out/undefined", data)
    assert crash.kind == kind and crash.sanitizer == "UndefinedBehaviorSanitizer"
    marker = {"S": "SHIFT", "Z": "DIVIDE", "N": "NULL"}[chr(data[0])]
    assert str(crash.top_frame) == f"main undefined.c:{line_of(UNDEFINED, marker)}"
    assert crash.description is not None and crash.description.startswith("runtime error: ")


def test_a_real_msan_report(tmp_path, bwrap):
    work = bench(write(tmp_path / "msan", {"input.c": INPUT, "uninit.c": UNINITIALIZED}), bwrap)
    assert "-fsanitize=memory -fsanitize-memory-track-origins" in run(
        build(work, sanitizers=["memory"])
    )
    crash = crash_of(work, "out/uninit", b"\x02")
    assert (crash.kind, crash.sanitizer) == ("use-of-uninitialized-value", "MemorySanitizer")
    assert str(crash.top_frame) == f"main uninit.c:{line_of(UNINITIALIZED, 'UNINIT')}"
    assert crash.description is not None
    assert "Uninitialized value was created by a heap allocation: main uninit.c:" in (
        crash.description
    )


def test_a_real_tsan_report(tmp_path, bwrap):
    work = bench(write(tmp_path / "tsan", {"race.c": RACE}), bwrap)
    run(build(work, sanitizers=["thread"]))
    crash = crash_of(work, "out/race", b"")
    assert (crash.kind, crash.sanitizer) == ("data-race", "ThreadSanitizer")
    assert crash.access is not None and crash.access.startswith(
        ("WRITE of size 4", "READ of size 4")
    )
    assert str(crash.top_frame) == f"bump race.c:{line_of(RACE, 'RACE')}"


LIBFUZZER_DEADLY = report("libfuzzer-deadly-signal.txt")

LIBFUZZER_TIMEOUT = report("libfuzzer-timeout.txt")

CXX_OVERFLOW = report("cxx-container-overflow.txt")

OLD_UBSAN = report("ubsan-without-stack.txt")

UNSYMBOLIZED = report("asan-unsymbolized.txt")


def test_libfuzzers_deadly_signal_keeps_the_project_frames():
    crash = parse_report(LIBFUZZER_DEADLY, "/src")
    assert crash is not None
    assert (crash.kind, crash.sanitizer) == ("deadly signal", "libFuzzer")
    assert [str(f) for f in crash.project_frames] == [
        "png_error libpng/pngerror.c:55",
        "png_read_row libpng/pngread.c:410",
        "LLVMFuzzerTestOneInput libpng/contrib/oss-fuzz/libpng_read_fuzzer.cc:156",
    ]
    assert str(crash.frames[3]) == "?? (libpthread.so.0)"
    assert str(crash.top_frame) == "png_error libpng/pngerror.c:55"


def test_libfuzzers_timeout_is_not_a_crash():
    crash = parse_report(LIBFUZZER_TIMEOUT)
    assert crash is not None and crash.timeout


def test_cxx_frames_and_the_standard_library():
    crash = parse_report(CXX_OVERFLOW, "/src/proj")
    assert crash is not None
    assert (crash.kind, crash.access) == ("container-overflow", "READ of size 4")
    assert not crash.frames[0].project  # the vector's operator[], in a system header
    assert (
        crash.frames[0].function == "std::vector<int, std::allocator<int> >::operator[]"
        "(unsigned long)"
    )
    assert [str(f) for f in crash.project_frames[:3]] == [
        "Parser::field(unsigned long) const src/parser.cc:42",
        "operator()<const char *> src/parser.cc:77",
        "(anonymous namespace)::run(std::__cxx11::basic_string<char> const&) src/main.cc:12",
    ]


def test_ubsan_without_report_error_type_or_stack():
    crash = parse_report(OLD_UBSAN)
    assert crash is not None
    assert crash.kind == "invalid-shift-base"
    assert str(crash.top_frame) == "? src/decode.c:77"
    assert crash.description == "runtime error: left shift of negative value -8"
    bool_load = parse_report(OLD_UBSAN.split("\n", 1)[1])
    assert bool_load is not None and bool_load.kind == "invalid-bool-load"


def test_an_unsymbolized_report_still_has_a_signature():
    crash = parse_report(UNSYMBOLIZED)
    assert crash is not None
    assert crash.kind == "heap-use-after-free" and crash.access == "WRITE of size 8"
    assert not crash.project_frames
    assert str(crash.top_frame) == "?? (target)"
    assert len(crash.signature) == 12


def test_no_report_is_none_and_a_signal_is_named():
    assert parse_report("hello\nsome output\n") is None
    crash = signal_crash(11)
    assert (crash.kind, crash.sanitizer, crash.frames) == ("signal SIGSEGV", "signal", ())


def test_signatures_follow_the_project_frames():
    a = (
        Frame(0, "memcpy", "/usr/lib/x.c", 1),
        Frame(1, "parse", "p.c", 10),
        Frame(2, "main", "m.c", 5),
    )
    b = (
        Frame(0, "__asan_memcpy", "compiler-rt/lib/asan/x.cpp", 9),
        Frame(1, "parse", "p.c", 10),
        Frame(2, "main", "m.c", 5),
    )
    assert signature("heap-buffer-overflow", a) == signature("heap-buffer-overflow", b)
    moved = (a[0], Frame(1, "parse", "p.c", 11), a[2])
    assert signature("heap-buffer-overflow", a) != signature("heap-buffer-overflow", moved)
    assert signature("heap-buffer-overflow", a) != signature("heap-use-after-free", a)


def test_frames_parse_with_and_without_debug_info():
    assert parse_frame("    #1 0x55 in main /w/prog.c:7:14", None) == Frame(
        1, "main", "/w/prog.c", 7
    )
    assert parse_frame("    #1 0x55 in main /w/prog.c:7:14", "/w") == Frame(1, "main", "prog.c", 7)
    assert parse_frame("    #0 w /tmp/x/tsan.c:3:21 (tsan+0xd00ff) (BuildId: ab12)", None) == (
        Frame(0, "w", "/tmp/x/tsan.c", 3)
    )
    assert parse_frame("    #4 0x5 in _start (/w/out/prog+0x21300) (BuildId: 65b8)", None) == (
        Frame(4, "_start", module="prog")
    )
    # A call the compiler merged has line 0, which the symbolizer leaves out.
    assert parse_frame("    #1 0x55 in main /w/prog.c", "/w") == Frame(1, "main", "prog.c")
    assert str(Frame(1, "main", "prog.c")) == "main prog.c"
    assert parse_frame("not a frame") is None


def test_glibcs_own_source_paths_are_runtime_code():
    """glibc's debug info names its files from its build folder: `libio/./libio/iofclose.c`,
    `stdlib/./stdlib/exit.c`. Neither is the project's frame, nor in its signature."""
    for path in ("libio/./libio/iofclose.c", "stdlib/./stdlib/exit.c", "./libio/genops.c"):
        assert not Frame(0, "fclose", path, 60).project, path
    report = """\
==7==ERROR: AddressSanitizer: attempting double-free on 0x602000000010 in thread T0:
    #0 0x4a1 in free (/w/out/prog+0x4a1)
    #1 0x7f1 in _IO_new_fclose libio/./libio/iofclose.c:74:3
    #2 0x55a in close_all /w/prog.c:12:5
    #3 0x7f2 in __run_exit_handlers stdlib/./stdlib/exit.c:113:8
SUMMARY: AddressSanitizer: double-free (/w/out/prog+0x4a1) in free
"""
    crash = parse_report(report, "/w")
    assert crash is not None
    assert str(crash.top_frame) == "close_all prog.c:12"
    assert [str(f) for f in crash.project_frames] == ["close_all prog.c:12"]


def test_pythons_standard_library_and_packages_are_runtime_code():
    """A Python target's frames in the standard library or an installed package (a venv's
    too) are not the project's; its own files are."""
    for path in (
        "/usr/lib/python3.11/json/decoder.py",
        "/home/u/.venv/lib/python3.11/site-packages/atheris/__init__.py",
        "/opt/py/lib/python3.12/dist-packages/x.py",
        "lib/python3.11/re/_parser.py",
        "<frozen importlib._bootstrap>",
    ):
        assert not Frame(0, "f", path, 3).project, path
    assert Frame(0, "parse", "pkg/parse.py", 4).project
    frames = (
        Frame(0, "decode", "/srv/env/lib/python3.11/site-packages/lib.py", 9),
        Frame(1, "parse", "pkg/parse.py", 4),
    )
    moved = (Frame(0, "decode", "/srv/env/lib/python3.11/site-packages/lib.py", 10), frames[1])
    assert signature("KeyError", frames) == signature("KeyError", moved)
