"""`run_tests` on small real projects the tests write: a Python package (pytest and unittest), a
Go module, a Rust crate, a node project and a Makefile, run in the bwrap sandbox (and, slow, the
container backend). Each report must name the counts, each failure's id, message and file:line,
and an id from the report must rerun that one test."""

from __future__ import annotations

import asyncio
import os
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

from opensage.core.tools import ToolError
from opensage.kits.swe.tests import run_tests, runners
from opensage.kits.swe.tests.parse_python import parse_xml
from opensage.kits.swe.tests.report import ReportError
from opensage.kits.swe.tests.runners import detect_runner
from opensage.sandbox import Sandbox


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def run(sandbox: Sandbox, root: Path, tests: list[str] | None = None, **kw: Any) -> str:
    return asyncio.run(run_tests(sandbox, root, tests, **kw))


def require(tool: str, package: str) -> None:
    """A toolchain the sandbox needs. scripts/setup.sh installs it from Debian's packages when
    it runs as root with apt, so there its absence is a failure; elsewhere (a developer's
    machine without root) the test is skipped, saying why."""
    if shutil.which(tool, path="/usr/local/bin:/usr/bin:/bin"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        pytest.fail(f"{tool} is missing: scripts/setup.sh installs Debian's {package}")
    pytest.skip(
        f"{tool} is not installed and this user cannot install Debian's {package} "
        "(scripts/setup.sh does, as root)"
    )


CALC = {
    "calc/__init__.py": """
        def add(a, b):
            return a - b


        def parse(text):
            if not text.isdigit():
                raise ValueError(f"not a number: {text!r}")
            return int(text)
        """,
    "tests/test_calc.py": """
        import pytest

        from calc import add, parse


        def test_add():
            assert add(1, 2) == 3


        def test_add_zero():
            assert add(2, 0) == 2


        class TestParse:
            def test_digits(self):
                assert parse("12") == 12

            def test_word(self):
                assert parse("twelve") == 12


        @pytest.mark.skip(reason="not yet")
        def test_later():
            pass


        @pytest.fixture
        def broken():
            raise RuntimeError("fixture broke")


        def test_uses_broken(broken):
            pass
        """,
    "pyproject.toml": """
        [project]
        name = "calc"
        version = "0.1"

        [tool.pytest.ini_options]
        testpaths = ["tests"]
        """,
}


@pytest.fixture
def calc(tmp_path: Path) -> Path:
    return write(tmp_path / "calc", CALC)


def test_a_failing_python_test_is_reported_precisely(bwrap, calc):
    out = run(bwrap, calc)
    lines = out.splitlines()
    assert lines[0] == "2 passed, 2 failed, 1 errors, 1 skipped"
    assert lines[1].startswith("runner: pytest")
    at = lines.index("FAILED tests/test_calc.py::test_add")
    assert lines[at + 1 : at + 4] == [
        "    assert -1 == 3",
        "     +  where -1 = add(1, 2)",
        "    at tests/test_calc.py:7 in test_add",
    ]
    # Raised in the package, called from the test: both places are named.
    at = lines.index("FAILED tests/test_calc.py::TestParse::test_word")
    assert lines[at + 1] == "    ValueError: not a number: 'twelve'"
    assert lines[at + 2] == (
        "    at calc/__init__.py:7 in parse (from tests/test_calc.py:19 in test_word)"
    )
    at = lines.index("ERROR tests/test_calc.py::test_uses_broken")
    assert "RuntimeError: fixture broke" in lines[at + 1]
    assert lines[at + 2] == "    at tests/test_calc.py:29 in broken"
    assert "--- output (last lines; exit code 1) ---" in out
    assert "2 failed, 2 passed, 1 skipped, 1 error in" in out  # pytest's own summary, raw
    assert not (calc / ".pytest_cache").exists()
    assert not list(calc.rglob("__pycache__"))


def test_selected_tests_run_alone_and_a_fix_turns_them_green(bwrap, calc):
    out = run(bwrap, calc, ["tests/test_calc.py::test_add"])
    assert out.splitlines()[0] == "0 passed, 1 failed"
    assert "FAILED tests/test_calc.py::test_add" in out
    out = run(
        bwrap,
        calc,
        ["tests/test_calc.py::TestParse::test_digits", "tests/test_calc.py::test_add_zero"],
    )
    assert out.splitlines()[0] == "2 passed, 0 failed"
    (calc / "calc/__init__.py").write_text(
        (calc / "calc/__init__.py").read_text().replace("a - b", "a + b")
    )
    assert (
        run(bwrap, calc, ["tests/test_calc.py::test_add"]).splitlines()[0] == "1 passed, 0 failed"
    )
    out = run(bwrap, calc, ["tests/test_calc.py::test_nothing_like_it"])
    assert out.splitlines()[0] == "0 passed, 0 failed, 1 errors"
    assert "no test ran (none matched the ids given)" in out


def test_a_module_that_does_not_import_is_an_error_and_the_rest_still_runs(bwrap, calc):
    write(calc, {"tests/test_broken.py": "import no_such_module\n"})
    out = run(bwrap, calc)
    assert out.splitlines()[0] == "2 passed, 2 failed, 2 errors, 1 skipped"
    lines = out.splitlines()
    at = lines.index("ERROR tests/test_broken.py")
    assert lines[at + 1] == (
        "    collection failed: ModuleNotFoundError: No module named 'no_such_module'"
    )
    assert lines[at + 2] == "    at tests/test_broken.py:1 in <module>"


def test_ids_that_are_options_are_refused(bwrap, calc):
    with pytest.raises(ToolError, match="not a test id"):
        run(bwrap, calc, ["-p", "evil"])
    with pytest.raises(ToolError, match="not a test id"):
        run(bwrap, calc, ["tests/test_calc.py\n--co"])


@pytest.mark.slow
def test_a_run_past_its_timeout_keeps_what_finished(bwrap, tmp_path):
    root = write(
        tmp_path / "slow",
        {
            "test_slow.py": """
        import time


        def test_fast():
            pass


        def test_slow():
            time.sleep(60)
        """,
            "conftest.py": "",
        },
    )
    out = run(bwrap, root, timeout_s=5)
    lines = out.splitlines()
    assert lines[0] == "1 passed, 0 failed, 1 errors"
    assert "the run TIMED OUT" in lines[2]
    at = lines.index("ERROR (timeout)")
    assert lines[at + 2] == "    at test_slow.py:9"


UNITTEST = {
    "shapes/__init__.py": """
        def area(w, h):
            return w + h
        """,
    "test_shapes.py": """
        import unittest

        from shapes import area


        class AreaTest(unittest.TestCase):
            def test_square(self):
                self.assertEqual(area(2, 2), 4)

            def test_rectangle(self):
                self.assertEqual(area(2, 3), 6)

            def test_crash(self):
                {}["missing"]

            @unittest.skip("later")
            def test_later(self):
                pass
        """,
    "setup.py": "",
}


def test_unittest_is_used_where_the_project_python_has_no_pytest(bwrap, tmp_path):
    root = write(tmp_path / "shapes", UNITTEST)
    # The project's own interpreter (a venv without pytest) decides the runner.
    made = asyncio.run(bwrap.exec("python3 -m venv --without-pip .venv", workdir=root))
    assert made.ok, made.stderr
    assert detect_runner(root) == "python"
    out = run(bwrap, root)
    lines = out.splitlines()
    assert lines[0] == "1 passed, 1 failed, 1 errors, 1 skipped"
    assert lines[1] == "runner: unittest (`./.venv/bin/python -m unittest`)"
    at = lines.index("FAILED test_shapes.AreaTest.test_rectangle")
    assert lines[at + 1 : at + 3] == [
        "    AssertionError: 5 != 6",
        "    at test_shapes.py:11 in test_rectangle",
    ]
    at = lines.index("ERROR test_shapes.AreaTest.test_crash")
    assert lines[at + 1 : at + 3] == [
        "    KeyError: 'missing'",
        "    at test_shapes.py:14 in test_crash",
    ]
    out = run(bwrap, root, ["test_shapes.AreaTest.test_square"])
    assert out.splitlines()[0] == "1 passed, 0 failed"


GO = {
    "go.mod": "module example.com/calc\n\ngo 1.19\n",
    "calc.go": """
        package calc

        func Add(a, b int) int { return a - b }
        """,
    "calc_test.go": """
        package calc

        import "testing"

        func TestAdd(t *testing.T) {
            if got := Add(1, 2); got != 3 {
                t.Errorf("Add(1, 2) = %d, want 3", got)
            }
        }

        func TestZero(t *testing.T) {
            if Add(2, 0) != 2 {
                t.Fatal("zero")
            }
        }

        func TestTable(t *testing.T) {
            cases := []struct {
                name    string
                a, b, w int
            }{{"plus zero", 1, 0, 1}, {"two", 1, 1, 2}}
            for _, c := range cases {
                c := c
                t.Run(c.name, func(t *testing.T) {
                    if got := Add(c.a, c.b); got != c.w {
                        t.Errorf("got %d", got)
                    }
                })
            }
        }

        func TestLater(t *testing.T) { t.Skip("later") }
        """,
    "util/util_test.go": """
        package util

        import "testing"

        func TestNothing(t *testing.T) {}
        """,
}


def test_go_test_json_is_read(bwrap, tmp_path):
    require("go", "golang-go")
    root = write(tmp_path / "gocalc", GO)
    assert detect_runner(root) == "go"
    out = run(bwrap, root)
    lines = out.splitlines()
    assert lines[0] == "3 passed, 2 failed, 1 skipped"
    assert lines[1] == "runner: go (`go test -json -timeout=900s ./...`)"
    at = lines.index("FAILED TestAdd")
    assert lines[at + 1 : at + 3] == [
        "    Add(1, 2) = -1, want 3",
        "    at calc_test.go:7 (package example.com/calc)",
    ]
    at = lines.index("FAILED TestTable/two")
    assert lines[at + 1 : at + 3] == [
        "    got 0",
        "    at calc_test.go:26 (package example.com/calc)",
    ]
    # An id from the report reruns that one subtest.
    out = run(bwrap, root, ["TestTable/two"])
    assert out.splitlines()[0] == "0 passed, 1 failed"
    assert run(bwrap, root, ["TestZero", "TestNothing"]).splitlines()[0] == "2 passed, 0 failed"
    # A package that does not build is an error with its compiler's message and place.
    write(root, {"util/util.go": 'package util\n\nfunc Broken() int { return "x" }\n'})
    out = run(bwrap, root)
    lines = out.splitlines()
    assert lines[0] == "2 passed, 2 failed, 1 errors, 1 skipped"
    at = lines.index("ERROR (example.com/calc/util)")
    assert lines[at + 1].startswith('    the package does not build: cannot use "x"')
    assert lines[at + 2] == "    at util/util.go:3"


RUST = {
    "Cargo.toml": """
        [package]
        name = "calc"
        version = "0.1.0"
        edition = "2021"

        [dependencies]
        """,
    "src/lib.rs": """
        pub fn add(a: i32, b: i32) -> i32 {
            a - b
        }

        #[cfg(test)]
        mod tests {
            use super::*;

            #[test]
            fn adds() {
                assert_eq!(add(1, 2), 3);
            }

            #[test]
            fn zero() {
                assert_eq!(add(2, 0), 2);
            }

            #[test]
            #[ignore]
            fn later() {}

            #[test]
            fn out_of_bounds() {
                let v: Vec<i32> = Vec::new();
                let _ = v[3];
            }
        }
        """,
    "tests/it.rs": """
        #[test]
        fn from_outside() {
            assert_eq!(calc::add(3, 0), 3);
        }
        """,
}


def test_cargo_test_output_is_read(bwrap, tmp_path):
    require("cargo", "cargo")
    root = write(tmp_path / "rscalc", RUST)
    assert detect_runner(root) == "cargo"
    out = run(bwrap, root)
    lines = out.splitlines()
    assert lines[0] == "2 passed, 2 failed, 1 skipped"
    assert "stable cargo has no machine-readable test output" in lines[2]
    at = lines.index("FAILED tests::adds")
    assert "left: `-1`" in out or "left: -1" in out
    assert "    at src/lib.rs:11" in lines[at + 1 : at + 6]
    at = lines.index("FAILED tests::out_of_bounds")
    assert lines[at + 1 : at + 3] == [
        "    index out of bounds: the len is 0 but the index is 3",
        "    at src/lib.rs:26",
    ]
    out = run(bwrap, root, ["tests::zero", "from_outside"])
    assert out.splitlines()[0] == "2 passed, 0 failed"
    # A crate that does not compile is an error at the compiler's place.
    (root / "src/lib.rs").write_text('pub fn add(a: i32) -> i32 { "x" }\n')
    lines = run(bwrap, root).splitlines()
    assert lines[0] == "0 passed, 0 failed, 1 errors"
    at = lines.index("ERROR (build)")
    assert lines[at + 1].startswith("    does not compile: mismatched types")
    assert lines[at + 2] == "    at src/lib.rs:1"


NODE = {
    "package.json": '{"name": "calc", "version": "1.0.0", "scripts": {"test": "node --test"}}',
    "calc.js": "exports.add = (a, b) => a - b;\n",
    "test/calc.test.js": """
        const test = require('node:test');
        const assert = require('node:assert');
        const { add } = require('../calc');

        test('adds', () => {
          assert.strictEqual(add(1, 2), 3);
        });
        test('zero', () => { assert.strictEqual(add(2, 0), 2); });
        test.describe('group', () => {
          test.it('inner fails', () => { throw new Error('inner boom'); });
          test.it('inner ok', () => {});
        });
        test('later', { skip: 'not yet' }, () => {});
        """,
}


def test_node_test_runner_tap_is_read(bwrap, tmp_path):
    if not shutil.which("node", path="/usr/local/bin:/usr/bin:/bin"):
        pytest.skip("node is not installed, so the sandbox has none")
    root = write(tmp_path / "jscalc", NODE)
    assert detect_runner(root) == "node"
    out = run(bwrap, root)
    lines = out.splitlines()
    assert lines[0] == "2 passed, 2 failed, 1 skipped"
    at = lines.index("FAILED adds")
    assert "-1 !== 3" in "\n".join(lines[at : at + 6])
    assert "    at test/calc.test.js:6" in lines[at : at + 8]
    at = lines.index("FAILED group > inner fails")
    assert lines[at + 1 : at + 3] == ["    inner boom", "    at test/calc.test.js:10"]
    out = run(bwrap, root, ["group > inner fails"])
    assert out.splitlines()[0].startswith("0 passed, 1 failed")


def test_make_test_counts_come_from_its_summary(bwrap, tmp_path):
    root = write(
        tmp_path / "mk",
        {"Makefile": "test:\n\t@echo checking\n\t@echo '5 passed, 1 failed'\n\t@exit 1\n"},
    )
    assert detect_runner(root) == "make"
    out = run(bwrap, root)
    assert out.splitlines()[0] == "5 passed, 1 failed"
    assert "runner: make (`make test`)" in out
    with pytest.raises(ToolError, match="cannot select tests"):
        run(bwrap, root, ["one"])
    write(root, {"Makefile": "test:\n\t@echo ok\n"})
    assert run(bwrap, root).splitlines()[0] == "1 passed, 0 failed"


def test_detection_and_no_runner(tmp_path):
    root = tmp_path / "empty"
    root.mkdir()
    with pytest.raises(ToolError, match="found no test runner"):
        detect_runner(root)
    write(
        root, {"package.json": '{"devDependencies": {"jest": "^29"}, "scripts": {"test": "jest"}}'}
    )
    assert detect_runner(root) == "jest"
    write(root, {"package.json": '{"scripts": {"test": "mocha"}}'})
    assert detect_runner(root) == "npm"
    write(root, {"setup.cfg": "[tool:pytest]\n"})
    assert detect_runner(root) == "pytest"


def test_the_report_xml_is_read_without_any_dtd():
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><testsuite>&b;</testsuite>'
    )
    with pytest.raises(ReportError, match="DTD"):
        parse_xml(bomb)
    external = (
        '<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<testsuite><testcase name="t">&x;</testcase></testsuite>'
    )
    with pytest.raises(ReportError, match="DTD"):
        parse_xml(external)
    assert parse_xml('<testsuites><testcase name="ok"/></testsuites>').find("testcase") is not None
    with pytest.raises(ReportError, match="does not parse"):
        parse_xml("<testsuite><unclosed></testsuite>")


def test_an_unreadable_report_falls_back_to_the_printed_summary(bwrap, calc, monkeypatch):
    """A test run whose JUnit file is not XML (here: pytest told to write it elsewhere) is
    still counted, from pytest's summary line, and says why."""
    real = runners.command

    def elsewhere(runner: str, ids: list[str], py: str, secs: int) -> tuple[str, str]:
        cmd, shown = real(runner, ids, py, secs)
        return cmd.replace('--junitxml="$dir/report"', "--junitxml=/tmp/elsewhere.xml"), shown

    monkeypatch.setattr(runners, "command", elsewhere)
    out = run(bwrap, calc)
    assert out.splitlines()[0] == "2 passed, 2 failed, 1 errors, 1 skipped"
    assert "could not read the runner's report (pytest wrote no JUnit XML)" in out


@pytest.mark.slow
def test_run_tests_in_the_container_backend(container, calc, tmp_path):
    lines = run(container, calc).splitlines()
    assert lines[0] == "2 passed, 2 failed, 1 errors, 1 skipped"
    assert "    at tests/test_calc.py:7 in test_add" in lines
    root = write(tmp_path / "gocalc", GO)
    assert run(container, root, ["TestTable/two"]).splitlines()[0] == "0 passed, 1 failed"
    root = write(tmp_path / "rscalc", RUST)
    assert run(container, root).splitlines()[0] == "2 passed, 2 failed, 1 skipped"
