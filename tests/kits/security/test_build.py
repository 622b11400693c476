"""`build` in the bwrap sandbox: what a folder holds (lone files, build.sh, a Makefile, CMake) or
a command, built with OSS-Fuzz's variables and the sanitizers on; the binaries it made; the
compiler's errors trimmed; sanitizer names and a missing compiler explained."""

from __future__ import annotations

from dataclasses import replace

import pytest

from opensage.core.tools import ToolError
from opensage.kits.security.build import build
from opensage.kits.security.build_errors import trim_errors
from opensage.kits.security.poc import execute
from opensage.kits.security.workbench import Workbench, check_sanitizers
from opensage.sandbox import open_sandbox
from tests.kits.security.programs import HEAP, INPUT, bench, line_of, need_clang, run, write

TARGET = """\
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
static volatile char sink;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 0 && data[0] == '!') {
    char *cells = malloc(4);
    sink = cells[size];  /* TARGET */
    free(cells);
  }
  return 0;
}
"""


@pytest.fixture(scope="module")
def bwrap():
    need_clang()
    return open_sandbox("bwrap")


def crash_line(work: Workbench, binary: str, data: bytes) -> str:
    (work.root / "in").write_bytes(data)
    outcome = run(execute(work, binary, "in"))
    assert outcome.crashed and outcome.crash is not None, outcome.describe(10)
    return f"{outcome.crash.kind} at {outcome.crash.top_frame}"


def test_lone_files_become_programs_and_fuzz_targets(tmp_path, bwrap):
    work = bench(
        write(tmp_path / "lone", {"input.c": INPUT, "heap.c": HEAP, "target.c": TARGET}), bwrap
    )
    report = run(build(work))
    assert "-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined" in report
    assert "from lone files: heap.c, target.c: 2 executables\n  out/heap\n  out/target" in report
    heap = f"store heap.c:{line_of(HEAP, 'HEAP')}"
    assert crash_line(work, "out/heap", b"\x20") == f"heap-buffer-overflow at {heap}"
    # Without libFuzzer, the target runs on a file through the standalone driver.
    target = f"LLVMFuzzerTestOneInput target.c:{line_of(TARGET, 'TARGET')}"
    assert crash_line(work, "out/target", b"!!!!!!!") == f"heap-buffer-overflow at {target}"
    # With it, the target is a libFuzzer binary, which also runs a file given as argument.
    report = run(build(work, fuzzer=True))
    assert "-fsanitize=fuzzer-no-link (libFuzzer)" in report
    assert "2 executables" in report  # both rebuilt: the program without libFuzzer's main
    assert b"LLVMFuzzerRunDriver" in (work.root / "out/target").read_bytes()
    assert crash_line(work, "out/target", b"!!!!!!!") == f"heap-buffer-overflow at {target}"
    assert crash_line(work, "out/heap", b"\x20") == f"heap-buffer-overflow at {heap}"


def test_build_sh_gets_oss_fuzz_variables(tmp_path, bwrap):
    script = """\
$CC $CFLAGS -c input.c -o $WORK/input.o
$CC $CFLAGS heap.c $WORK/input.o -o $OUT/heap
$CC $CFLAGS target.c $LIB_FUZZING_ENGINE -o $OUT/target_fuzzer
echo "$SRC|$SANITIZER|$FUZZING_ENGINE|$CXXFLAGS" > $OUT/variables.txt
"""
    root = write(
        tmp_path / "sh", {"input.c": INPUT, "heap.c": HEAP, "target.c": TARGET, "build.sh": script}
    )
    work = bench(root, bwrap)
    report = run(build(work, sanitizers=["address"]))
    assert "from build.sh: 2 executables\n  out/heap\n  out/target_fuzzer" in report
    assert (root / "out/variables.txt").read_text().strip() == (
        f"{root}|address|none|-g -O1 -fno-omit-frame-pointer -fsanitize=address"
    )
    assert crash_line(work, "out/target_fuzzer", b"!!!!!").startswith("heap-buffer-overflow")
    # A build.sh that fails: its error, trimmed.
    (root / "build.sh").write_text("$CC $CFLAGS missing.c -o $OUT/x\n")
    with pytest.raises(
        ToolError,
        match=r"(?s)the build \(build.sh\) failed with exit code 1.*"
        r"no such file or directory: 'missing.c'",
    ):
        run(build(work))


def test_a_makefile_that_sets_its_own_cflags_still_gets_the_sanitizers(tmp_path, bwrap):
    makefile = (
        "CFLAGS = -O2 -Wall\nheap: heap.c input.c\n\t$(CC) $(CFLAGS) heap.c input.c -o heap\n"
    )
    work = bench(
        write(tmp_path / "make", {"input.c": INPUT, "heap.c": HEAP, "Makefile": makefile}), bwrap
    )
    report = run(build(work))
    assert "from Makefile: 1 executable\n  heap" in report
    assert "instrumentation" not in report  # both sanitizers are in the binary
    assert crash_line(work, "heap", b"\x20") == (
        f"heap-buffer-overflow at store heap.c:{line_of(HEAP, 'HEAP')}"
    )
    # Up to date: nothing changed, and the report says how to rebuild.
    assert "made or changed no executable" in run(build(work))
    # A Makefile that names the compiler itself cannot be given the sanitizers.
    (work.root / "Makefile").write_text("heap: heap.c\n\tgcc heap.c input.c -o heap\n")
    with pytest.raises(ToolError, match=r"calls the compiler by name \('gcc'\)"):
        run(build(work))


def test_a_build_that_drops_cflags_is_flagged(tmp_path, bwrap):
    work = bench(write(tmp_path / "drop", {"input.c": INPUT, "heap.c": HEAP}), bwrap)
    report = run(build(work, command="$CC heap.c input.c -o $OUT/plain"))
    assert "out/plain  (no address, undefined instrumentation found in it" in report


def test_cmake_configures_into_build_with_the_flags(tmp_path, bwrap):
    cmake = (
        "cmake_minimum_required(VERSION 3.10)\nproject(t C)\nadd_executable(heap heap.c input.c)\n"
    )
    work = bench(
        write(tmp_path / "cmake", {"input.c": INPUT, "heap.c": HEAP, "CMakeLists.txt": cmake}),
        bwrap,
    )
    report = run(build(work))
    assert "from CMakeLists.txt, into build/: 1 executable\n  build/heap" in report
    assert "CompilerId" not in report  # CMake's own test programs are not the build's
    assert crash_line(work, "build/heap", b"\x20") == (
        f"heap-buffer-overflow at store heap.c:{line_of(HEAP, 'HEAP')}"
    )


def test_a_command_builds_in_the_folder(tmp_path, bwrap):
    root = write(tmp_path / "cmd" / "project", {"input.c": INPUT, "heap.c": HEAP})
    work = bench(tmp_path / "cmd", bwrap)
    report = run(build(work, command="$CC $CFLAGS heap.c input.c -o $OUT/custom", path="project"))
    assert "from command '$CC $CFLAGS heap.c input.c -o $OUT/custom'" in report
    assert report.endswith(": 1 executable\n  project/out/custom")
    assert (root / "out/custom").is_file()


def test_compiler_errors_are_trimmed_to_what_matters(tmp_path, bwrap):
    broken = "int main(void) {\n" + "".join(f"  int v{i} = missing_{i};\n" for i in range(14))
    broken += "  return 0;\n}\n"
    work = bench(write(tmp_path / "broken", {"broken.c": broken}), bwrap)
    with pytest.raises(ToolError) as caught:
        run(build(work))
    text = str(caught.value)
    assert text.startswith("the build (lone files: broken.c) failed with exit code 1.\n14 errors:")
    assert (
        "broken.c:2:12: error: use of undeclared identifier 'missing_0'\n"
        "  int v0 = missing_0;\n           ^" in text
    )
    assert "missing_9'" in text and "missing_10'" not in text
    assert text.endswith("[... and 4 more errors]")
    assert str(work.root) not in text  # paths relative to the work dir
    assert "warning" not in text


def test_trim_errors_knows_the_linker_cmake_and_the_shell():
    output = """\
[ 50%] Building C object CMakeFiles/t.dir/t.c.o
/usr/bin/ld: CMakeFiles/t.dir/t.c.o: in function `main':
/work/t.c:3: undefined reference to `helper'
clang: error: linker command failed with exit code 1 (use -v to see invocation)
make[2]: *** [CMakeFiles/t.dir/build.make:97: t] Error 1
CMake Error at CMakeLists.txt:4 (add_executable):
  Cannot find source file:
./build.sh: line 2: autoreconf: command not found
"""
    text = trim_errors(output, None)
    assert text.splitlines() == [
        "3 errors:",
        "/work/t.c:3: undefined reference to `helper'",
        "CMake Error at CMakeLists.txt:4 (add_executable):",
        "  Cannot find source file:",
        "./build.sh: line 2: autoreconf: command not found",
    ]
    assert trim_errors("configure: lots\nof output\nthen failure\n").startswith(
        "(no error line found; the output's end:)\nconfigure: lots"
    )


def test_sanitizer_names_and_combinations_are_checked(tmp_path, bwrap):
    assert check_sanitizers(["Address", "undefined", "address"]) == ["address", "undefined"]
    assert check_sanitizers(["memory", "undefined"]) == ["memory", "undefined"]
    with pytest.raises(
        ToolError,
        match=r"unknown sanitizer 'adress'.*address, undefined, "
        r"memory, leak, thread",
    ):
        check_sanitizers(["adress"])
    with pytest.raises(ToolError, match="cannot combine the address and memory sanitizers"):
        check_sanitizers(["address", "memory"])
    with pytest.raises(ToolError, match="cannot combine the memory and thread"):
        check_sanitizers(["memory", "thread"])
    work = bench(write(tmp_path / "s", {"heap.c": HEAP}), bwrap)
    with pytest.raises(ToolError, match="cannot combine the address and thread"):
        run(build(work, sanitizers=["address", "thread"]))


def test_no_compiler_and_nothing_to_build_are_explained(tmp_path, bwrap, monkeypatch):
    monkeypatch.delenv("CC", raising=False)
    root = write(tmp_path / "none", {"notes.txt": "no code"})
    work = Workbench(root, bwrap, compiler=("no-such-cc", "no-such-cxx"))
    with pytest.raises(
        ToolError,
        match=r"no C compiler was found in the sandbox: install clang.*"
        r"libfuzzer-14-dev.*set CC and CXX",
    ):
        run(build(work))
    with pytest.raises(ToolError, match=r"nothing to build in \.: no build.sh, CMakeLists.txt"):
        run(build(bench(root, bwrap)))
    write(root, {"lib.c": "int helper(void) { return 1; }\n"})
    with pytest.raises(ToolError, match=r"no file here defines main\(\)"):
        run(build(bench(root, bwrap)))
    with pytest.raises(ToolError, match="is a file; give the folder"):
        run(build(bench(root, bwrap), path="lib.c"))


def test_cc_from_the_environment_is_the_compiler(tmp_path, bwrap, monkeypatch):
    monkeypatch.setenv("CC", "clang-14")
    monkeypatch.setenv("CXX", "clang++-14")
    work = bench(write(tmp_path / "env", {"input.c": INPUT, "heap.c": HEAP}), bwrap)
    assert run(work.toolchain()).cc == "/usr/bin/clang-14"
    assert "built with clang-14 14." in run(build(work))


def test_a_missing_runtime_says_which_package_brings_it(tmp_path, bwrap):
    work = bench(write(tmp_path / "rt", {"heap.c": HEAP}), bwrap)
    found = run(work.toolchain())
    work._toolchain = replace(found, runtimes=found.runtimes - {"fuzzer", "msan"})
    with pytest.raises(
        ToolError,
        match=r"lacks the runtime of fuzzer \(install "
        r"libclang-rt-14-dev, and libfuzzer-14-dev",
    ):
        run(build(work, fuzzer=True))
    with pytest.raises(ToolError, match="lacks the runtime of memory"):
        run(build(work, sanitizers=["memory"]))
