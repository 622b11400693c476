"""`triage`, `crash_context` and `compare_builds` in the bwrap sandbox, on a program with two
planted bugs and its fixed and wrongly fixed versions."""

from __future__ import annotations

import pytest

from opensage.core.tools import ToolError
from opensage.kits.security.build import build
from opensage.kits.security.compare import compare, compare_builds
from opensage.kits.security.triage import crash_context, expand, triage
from opensage.kits.security.workbench import Workbench
from opensage.sandbox import open_sandbox
from tests.kits.security.programs import INPUT, PROLOGUE, bench, line_of, need_clang, run, write

# "F" + count + bytes: copies count bytes into 16 (bug 1); "L" + index: reads a freed table
# (bug 2). FIX is where the fixed versions differ.
PROGRAM = (
    PROLOGUE
    + """\
__attribute__((noinline)) void fill(char *cells, const unsigned char *from, int count) {
  int limit = count;  /* FIX */
  for (int i = 0; i < limit; i++)
    cells[i] = from[i];  /* FILL */
}
__attribute__((noinline)) int lookup(const unsigned char *in) {
  int *table = calloc(4, sizeof(int));
  free(table);
  return table[in[1] % 4];  /* LOOKUP */
}
int main(int argc, char **argv) {
  unsigned char in[64] = {0};
  read_input(argv[1], in, sizeof in);
  char *cells = malloc(16);
  if (in[0] == 'F') fill(cells, in + 2, in[1]);
  if (in[0] == 'L') sink = lookup(in);
  free(cells);
  return 0;
}
"""
)
FIXED = PROGRAM.replace("int limit = count;", "int limit = count > 16 ? 16 : count;")
NOT_FIXED = PROGRAM.replace("int limit = count;", "int limit = count > 17 ? 17 : count;")


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Workbench:
    need_clang()
    root = tmp_path_factory.mktemp("triage") / "work"
    for name, source in (("vulnerable", PROGRAM), ("fixed", FIXED), ("notfixed", NOT_FIXED)):
        write(root / name, {"input.c": INPUT, "prog.c": source})
    write(root / "crashes", {})
    (root / "crashes/fill-20").write_bytes(b"F\x14" + b"a" * 20)
    (root / "crashes/fill-40").write_bytes(b"F\x28" + b"b" * 40)
    (root / "crashes/lookup").write_bytes(b"L\x02")
    (root / "crashes/harmless").write_bytes(b"F\x04abcd")
    bench_ = bench(root, open_sandbox("bwrap"))
    for name in ("vulnerable", "fixed", "notfixed"):
        assert f"{name}/out/prog" in run(build(bench_, path=name))
    return bench_


def test_inputs_reaching_the_same_bug_are_grouped_and_another_bug_stands_apart(work):
    text = run(triage(work, "vulnerable/out/prog", ["crashes"]))
    lines = text.splitlines()
    assert lines[0] == "4 inputs: 3 crashed, 2 distinct signatures"
    assert lines[1].split() == ["signature", "kind", "top", "frame", "inputs"]
    fill = f"fill vulnerable/prog.c:{line_of(PROGRAM, 'FILL')}"
    lookup = f"lookup vulnerable/prog.c:{line_of(PROGRAM, 'LOOKUP')}"
    first, second = lines[2].split(), lines[3].split()
    assert first[1:] == [
        "heap-buffer-overflow",
        *fill.split(),
        "crashes/fill-20,",
        "crashes/fill-40",
    ]
    assert second[1:] == ["heap-use-after-free", *lookup.split(), "crashes/lookup"]
    assert first[0] != second[0] and len(first[0]) == 12
    assert lines[4] == "did not crash: crashes/harmless (exit code 0)"
    # The same bug in the fixed build: no crash for any of the overflow's inputs.
    fixed = run(triage(work, "fixed/out/prog", ["crashes/fill-*"]))
    assert fixed.startswith("2 inputs: 0 crashed, 0 distinct signatures")


def test_triage_takes_files_folders_and_patterns(work):
    assert expand(work, ["crashes/lookup", "crashes/fill-*"]) == [
        "crashes/lookup",
        "crashes/fill-20",
        "crashes/fill-40",
    ]
    assert len(expand(work, ["crashes"])) == 4
    with pytest.raises(ToolError, match="no file matches 'crashes/nope-\\*'"):
        expand(work, ["crashes/nope-*"])
    with pytest.raises(ToolError, match="no inputs given"):
        expand(work, [])


def test_crash_context_shows_the_locals_of_the_crashing_frame(work):
    text = run(crash_context(work, "vulnerable/out/prog", "crashes/fill-20"))
    lines = text.splitlines()
    assert lines[0] == (
        f"crash: heap-buffer-overflow (AddressSanitizer), WRITE of size 1 at "
        f"fill vulnerable/prog.c:{line_of(PROGRAM, 'FILL')}"
    )
    assert lines[1].startswith("gdb: ") and "SIGABRT" in lines[1]
    assert lines[2].startswith("(frames #0-#") and "sanitizer's runtime" in lines[2]
    fill = next(i for i, line in enumerate(lines) if " fill (" in line)
    assert lines[fill].endswith(f"at vulnerable/prog.c:{line_of(PROGRAM, 'FILL')}")
    assert "cells=0x" in lines[fill]  # the arguments
    block = lines[fill + 1 : fill + 4]
    assert "    i = 16" in block  # the loop stopped at the first byte past the 16
    assert any(line.startswith("#") and " main (" in line for line in lines[fill + 1 :])


def test_crash_context_of_an_input_that_does_not_crash(work):
    text = run(crash_context(work, "vulnerable/out/prog", "crashes/harmless"))
    assert text.startswith("no crash under gdb: [Inferior 1 (process")
    assert "exited normally" in text


def test_compare_builds_tells_a_real_fix_from_a_non_fix(work):
    text = run(compare_builds(work, "crashes/fill-20", "vulnerable/out/prog", "fixed/out/prog"))
    assert text.splitlines()[0].startswith(
        "REPRODUCED: the input crashes the vulnerable build and not the fixed one"
    )
    assert "vulnerable (vulnerable/out/prog): CRASHED, heap-buffer-overflow at fill " in text
    assert "fixed (fixed/out/prog): no crash (exit code 0)" in text
    assert "warning" not in text
    text = run(compare_builds(work, "crashes/fill-20", "vulnerable/out/prog", "notfixed/out/prog"))
    assert text.splitlines()[0] == (
        "NOT REPRODUCED: the input crashes both builds the same "
        "way: the fix does not stop it (or it is not the fix of "
        "this bug)"
    )
    assert "fixed (notfixed/out/prog): CRASHED, heap-buffer-overflow at fill notfixed/" in text
    # An input that misses the bug proves nothing.
    text = run(compare_builds(work, "crashes/harmless", "vulnerable/out/prog", "fixed/out/prog"))
    assert text.startswith("NOT REPRODUCED: the input crashes neither build")
    result = run(compare(work, "crashes/fill-20", "vulnerable/out/prog", "fixed/out/prog"))
    assert result.reproduces and result.same_flags
    assert result.sanitizers[0] == {"address"}


def test_compare_builds_warns_when_the_flags_differ(work, tmp_path):
    run(build(work, path="fixed", sanitizers=["undefined"]))
    try:
        text = run(compare_builds(work, "crashes/fill-20", "vulnerable/out/prog", "fixed/out/prog"))
        assert (
            "warning: the builds differ in their sanitizers (vulnerable: address; fixed: "
            "undefined)" in text
        )
    finally:
        run(build(work, path="fixed"))
    with pytest.raises(ToolError, match="vulnerable and fixed are the same file"):
        run(
            compare_builds(
                work, "crashes/fill-20", "vulnerable/out/prog", "vulnerable/out/../out/prog"
            )
        )
