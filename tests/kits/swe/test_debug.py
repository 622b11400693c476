"""`debug` on programs the tests write: Python scripts and a pytest test under the bdb driver,
and a C program compiled with gcc -g in the sandbox under gdb; in bwrap and (slow) the
container backend. Each must stop where asked and give the values the program held there."""

from __future__ import annotations

import asyncio
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from opensage.core.tools import ToolError
from opensage.kits.swe.debug import debug
from opensage.sandbox import Sandbox

CALC_PY = """
def add(a, b):
    total = a + b
    return total


def main():
    acc = 0
    for i in range(4):
        acc = add(acc, i)
    print("acc", acc)


if __name__ == "__main__":
    main()
"""

TEST_PY = """
from calc import add


def test_add():
    x = add(2, 3)
    assert x == 6
"""

PROG_C = r"""
#include <stdio.h>
#include <stdlib.h>

struct node { int value; struct node *next; };

int sum(struct node *n) {
    int total = 0;
    while (n) {
        total += n->value;
        n = n->next;
    }
    return total;
}

int main(int argc, char **argv) {
    int count = argc > 1 ? atoi(argv[1]) : 3;
    struct node *head = NULL;
    for (int i = 1; i <= count; i++) {
        struct node *n = malloc(sizeof *n);
        n->value = i * 10;
        n->next = head;
        head = n;
    }
    printf("sum %d\n", sum(head));
    if (count > 4) {
        int *p = NULL;
        *p = 1;
    }
    return 0;
}
"""


@pytest.fixture
def work(tmp_path: Path) -> Path:
    root = tmp_path / "work"
    root.mkdir()
    for name, text in {"calc.py": CALC_PY, "test_calc.py": TEST_PY, "prog.c": PROG_C}.items():
        (root / name).write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def run(
    sandbox: Sandbox,
    root: Path,
    command: str,
    breakpoints: list[str],
    expressions: list[str] | None = None,
    **kw: Any,
) -> str:
    return asyncio.run(debug(sandbox, root, command, breakpoints, expressions, **kw))


def hits(out: str) -> list[list[str]]:
    """Each hit's block of lines (its header first)."""
    blocks: list[list[str]] = []
    for line in out.splitlines():
        if re.match(r"hit \d+ at ", line):
            blocks.append([line])
        elif blocks and line.startswith("    "):
            blocks[-1].append(line)
        elif blocks and blocks[-1][0] != "":
            blocks.append([""])
    return [b for b in blocks if b[0]]


def check_python(sandbox: Sandbox, work: Path) -> None:
    out = run(sandbox, work, "python3 calc.py", ["calc.py:2", "calc.py:11"], ["a", "b", "a + b"])
    assert out.splitlines()[0] == (
        "4 breakpoint hits under the Python debugger (bdb); the program exited with code 0"
    )
    found = hits(out)
    assert [b[0] for b in found] == [f"hit {n} at calc.py:2 in add" for n in (1, 2, 3, 4)]
    assert found[2][1:4] == ["    a = 1", "    b = 2", "    a + b = 3"]
    assert found[2][4] == "    called from: calc.py:9 in main <- calc.py:14 in <module>"
    assert "breakpoint calc.py:11 was never hit" in out  # a blank line
    assert out.endswith("--- program output (last lines) ---\nacc 6")


def test_a_python_program_stops_at_its_breakpoints(bwrap, work):
    check_python(bwrap, work)


def test_without_expressions_the_locals_are_shown(bwrap, work):
    out = run(bwrap, work, "python3 calc.py", ["calc.py:3"])
    assert hits(out)[3][1] == "    locals: a=3, b=3, total=6"


def test_a_pytest_test_under_the_debugger(bwrap, work):
    out = run(
        bwrap,
        work,
        "python3 -m pytest -q test_calc.py::test_add",
        ["test_calc.py:6", "calc.py:3"],
        ["x", "total"],
    )
    found = hits(out)
    assert found[0][:3] == [
        "hit 1 at calc.py:3 in add",
        "    x = <error: NameError: name 'x' is not defined>",
        "    total = 5",
    ]
    assert found[0][3].startswith("    called from: test_calc.py:5 in test_add (+")
    assert found[1][:2] == ["hit 2 at test_calc.py:6 in test_add", "    x = 5"]
    assert "the program exited with code 1" in out.splitlines()[0]  # the test fails
    assert "1 failed" in out


def test_an_uncaught_exception_and_the_hit_cap_are_reported(bwrap, work):
    (work / "loop.py").write_text(
        textwrap.dedent("""
        def check(n):
            if n == 30:
                raise ValueError("thirty")
            return n

        for i in range(100):
            check(i)
        """).lstrip("\n")
    )
    out = run(bwrap, work, "python3 loop.py", ["loop.py:2"], ["n"])
    assert out.splitlines()[0] == (
        "20 breakpoint hits under the Python debugger (bdb); the program exited with code 1"
    )
    assert "(stopped recording at 20 hits" in out
    assert [b[1] for b in hits(out)] == [f"    n = {n}" for n in range(20)]
    assert (
        "the program died: ValueError: thirty\n    stack: loop.py:3 in check <- "
        "loop.py:7 in <module>" in out
    )


def test_bad_breakpoints_and_commands_are_explained(bwrap, work):
    with pytest.raises(ToolError, match="no file 'nope.py'"):
        run(bwrap, work, "python3 calc.py", ["nope.py:3"])
    with pytest.raises(ToolError, match="outside the work directory"):
        run(bwrap, work, "python3 calc.py", ["../calc.py:3"])
    with pytest.raises(ToolError, match="file:line"):
        run(bwrap, work, "python3 calc.py", ["calc.py"])
    with pytest.raises(ToolError, match="at least one breakpoint"):
        run(bwrap, work, "python3 calc.py", [])
    with pytest.raises(ToolError, match="without shell operators"):
        run(bwrap, work, "python3 calc.py | head", ["calc.py:2"])
    out = run(bwrap, work, "python3 calc.py", ["calc.py:200"])
    assert "breakpoint calc.py:200 not set: Line" in out


async def compile_prog(sandbox: Sandbox, root: Path) -> None:
    built = await sandbox.exec("gcc -g -O0 -o prog prog.c", workdir=root, timeout_s=120)
    assert built.ok, built.stderr


def check_c(sandbox: Sandbox, work: Path) -> None:
    asyncio.run(compile_prog(sandbox, work))
    out = run(sandbox, work, "./prog 3", ["prog.c:9"], ["total", "n->value", "*n->next"])
    assert out.splitlines()[0] == "3 breakpoint hits under gdb; the program exited with code 0"
    found = hits(out)
    assert [b[0] for b in found] == [f"hit {n} at prog.c:9 in sum" for n in (1, 2, 3)]
    assert found[1][1:3] == ["    total = 30", "    n->value = 20"]
    assert re.fullmatch(r"    \*n->next = \{value = 10, next = 0x0\}", found[1][3])
    assert found[1][4] == "    called from: prog.c:24 in main"
    assert out.endswith("--- program output (last lines) ---\nsum 60")
    # A crash: the signal and where it happened.
    out = run(sandbox, work, "./prog 5", ["sum"])
    assert "hit 1 at prog.c:7 in sum" in out
    assert "the program died: signal SIGSEGV\n    stack: prog.c:27 in main" in out


def test_a_c_program_under_gdb(bwrap, work):
    check_c(bwrap, work)


@pytest.mark.slow
def test_debug_in_the_container_backend(container, work):
    check_python(container, work)
    check_c(container, work)
