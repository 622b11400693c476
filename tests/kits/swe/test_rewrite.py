"""`rewrite_function` on small real projects in the bwrap sandbox: a rewrite that fixes a failing
test stays; one that breaks a passing test is taken back; the model's code is indented to where
the function stands, a method is found by its class, and a rewrite that renames the function,
holds something else or names no single function is refused with what to do instead."""

from __future__ import annotations

import asyncio
import re
import textwrap
from pathlib import Path

import pytest

from opensage.core.tools import ToolError
from tests.kits.swe.test_kit import CALC, make_package, swe_tools, use

SHAPES = textwrap.dedent("""\
    import functools


    class Square:
        def __init__(self, side):
            self.side = side

        @functools.cache
        def area(self):
            return self.side * 4


    class Circle:
        def area(self):
            return 3


    def total(shapes):
        return sum(s.area() for s in shapes)
    """)
TEST_SHAPES = textwrap.dedent("""\
    from shapes import Square, total


    def test_square_area():
        assert Square(3).area() == 9


    def test_total_of_nothing():
        assert total([]) == 0
    """)


def rewrite(work: Path, home: Path, sandbox, path: str | None, name: str | None, code: str) -> str:
    async def go() -> str:
        given = {"path": path, "name": name}
        where = {k: v for k, v in given.items() if v is not None}
        async with swe_tools(work, home, sandbox) as tools:
            return await use(tools, "rewrite_function", code=code, **where)

    return asyncio.run(go())


def test_a_rewrite_that_fixes_the_failing_test_stays(bwrap, tmp_path, home):
    work = make_package(tmp_path / "work")
    # No name, no path: the function the code defines, in the one file that defines it.
    out = rewrite(work, home, bwrap, None, None, "def add(a, b):\n    return a + b")
    assert out.splitlines()[0] == "Rewrote add in calc/__init__.py."
    assert "The tests pass now (2 passed, 0 failed; before: 1 passed, 1 failed)." in out
    assert (work / "calc/__init__.py").read_text() == CALC.replace("a - b", "a + b")


def test_lines_copied_from_above_the_definition_are_left_out(bwrap, tmp_path, home):
    work = make_package(tmp_path / "work")
    # What symbols showed, copied with the code (as the 1.5B did).
    code = "calc/__init__.py:1-2: function add\n```python\ndef add(a, b):\n    return a + b"
    out = rewrite(work, home, bwrap, None, None, code)
    assert "The tests pass now" in out
    assert (work / "calc/__init__.py").read_text() == CALC.replace("a - b", "a + b")


def test_a_rewrite_that_breaks_a_passing_test_is_taken_back(bwrap, tmp_path, home):
    work = make_package(tmp_path / "work")
    with pytest.raises(ToolError) as caught:
        rewrite(work, home, bwrap, "calc/__init__.py", "mul", "def mul(a, b):\n    return a + b")
    message = str(caught.value)
    assert message.startswith("Taken back: with this version of mul, 1 test that passed before")
    assert "- test_calc.py::test_mul:" in message
    changed = "-    return a * b\n+    return a + b\n"
    assert f"Your version changed these lines (- removed, + added):\n{changed}" in message
    assert (work / "calc/__init__.py").read_text() == CALC  # as it was


def test_a_rewrite_taken_back_says_which_failing_test_it_did_fix(bwrap, tmp_path, home):
    work = make_package(tmp_path / "work")
    # add fixed, mul broken, in one rewrite of a function both tests call.
    (work / "calc/__init__.py").write_text(
        "def both(a, b):\n    return a - b, a * b\n\n\ndef add(a, b):\n    return both(a, b)[0]"
        "\n\n\ndef mul(a, b):\n    return both(a, b)[1]\n"
    )
    with pytest.raises(ToolError) as caught:
        rewrite(work, home, bwrap, None, None, "def both(a, b):\n    return a + b, a + b")
    message = str(caught.value)
    assert "It did make test_calc.py::test_add pass: keep that change." in message
    assert "- test_calc.py::test_mul:" in message


def test_a_method_is_found_by_its_class_and_indented_where_it_stands(bwrap, tmp_path, home):
    work = tmp_path / "work"
    work.mkdir()
    (work / "shapes.py").write_text(SHAPES)
    (work / "test_shapes.py").write_text(TEST_SHAPES)
    # Written at the left margin, in a code fence, as small models do.
    code = "```python\n@functools.cache\ndef area(self):\n    return self.side ** 2\n```"
    out = rewrite(work, home, bwrap, "shapes.py", "Square.area", code)
    assert "The tests pass now (2 passed, 0 failed" in out
    text = (work / "shapes.py").read_text()
    assert text == SHAPES.replace("self.side * 4", "self.side ** 2")  # one decorator, not two


@pytest.mark.parametrize(
    ("name", "code", "expected"),
    [
        ("area", "def area(self):\n    return 1", "2 definitions of 'area' in shapes.py"),
        ("volume", "def volume(self):\n    return 1", "no function or method 'volume'"),
        (
            "area",  # and no path: found twice in the work dir
            "def area(self):\n    return 1",
            "2 definitions of 'area': shapes.py:9 Square.area, shapes.py:14 Circle.area.",
        ),
        (
            "helper",
            "def helper():\n    return 1",
            "no function or method 'helper' in shapes.py. It is defined in util.py (line 1).",
        ),
        (
            "total",
            "def sum_areas(shapes):\n    return 0",
            "code must be exactly one definition, of total (keep its name",
        ),
        ("total", "def total(shapes):\n    return (", "code is not valid Python"),
        (None, "x = 1", "give name, the function to rewrite: code is not one Python function"),
        (
            None,
            "def total(shapes):\n\n    return   sum(s.area() for s in shapes)",
            "Not rewritten: this is total as it already is",
        ),
        (None, "def total(shapes):\n    return (", "code is not valid Python (line 2: '('"),
    ],
)
def test_a_rewrite_that_is_not_one_definition_of_one_function_is_refused(
    bwrap, tmp_path, home, name, code, expected
):
    work = tmp_path / "work"
    work.mkdir()
    (work / "shapes.py").write_text(SHAPES)
    (work / "util.py").write_text("def helper():\n    return 0\n")
    with pytest.raises(ToolError, match=re.escape(expected)):
        path = None if expected.startswith("2 definitions of 'area':") else "shapes.py"
        rewrite(work, home, bwrap, path, name, code)
    assert (work / "shapes.py").read_text() == SHAPES
