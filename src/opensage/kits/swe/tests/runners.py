"""Which test runner a work dir uses, found from the files it holds, and the command line that
runs all or some of its tests with a machine-readable report."""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from opensage.core.tools import ToolError
from opensage.kits.files import read_regular
from opensage.kits.swe.tests.parse_python import UNITTEST_DRIVER
from opensage.sandbox.base import Sandbox, SandboxLimits

RUNNERS = ("pytest", "unittest", "go", "cargo", "node", "jest", "npm", "make")
CONFIG_BYTES = 1 << 20  # of a configuration file read for detection


def read_config(root: Path, name: str) -> str | None:
    """A small file of the work dir (never through a symlink), or None."""
    data = read_regular(root, root / name, CONFIG_BYTES)
    return None if data is None else data.decode(errors="replace")


def _has(root: Path, name: str) -> bool:
    return os.path.lexists(root / name)


def _python_project(root: Path) -> bool:
    if any(_has(root, n) for n in ("setup.py", "pyproject.toml", "setup.cfg", "tox.ini")):
        return True
    for folder in (root, root / "tests", root / "test"):
        try:
            with os.scandir(folder) as entries:
                if any(
                    e.name.endswith(".py")
                    and e.is_file(follow_symlinks=False)
                    and (e.name.startswith("test") or e.name.endswith("_test.py"))
                    for e in entries
                ):
                    return True
        except OSError:
            continue
    return False


def _pytest_configured(root: Path) -> bool:
    if _has(root, "pytest.ini") or _has(root, "conftest.py"):
        return True
    checks = {"pyproject.toml": "[tool.pytest", "setup.cfg": "[tool:pytest]", "tox.ini": "[pytest]"}
    return any(marker in (read_config(root, name) or "") for name, marker in checks.items())


def _package_json(root: Path) -> dict[str, Any] | None:
    text = read_config(root, "package.json")
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _js_runner(pkg: dict[str, Any]) -> str:
    scripts = pkg.get("scripts") if isinstance(pkg.get("scripts"), dict) else {}
    test = str(scripts.get("test", "")) if scripts else ""
    deps: dict[str, Any] = {}
    for key in ("dependencies", "devDependencies"):
        if isinstance(pkg.get(key), dict):
            deps.update(pkg[key])
    if "jest" in deps or re.search(r"\bjest\b", test):
        return "jest"
    if not test or "node --test" in test or "no test specified" in test:
        return "node"
    return "npm"


def _make_test(root: Path) -> bool:
    for name in ("Makefile", "makefile", "GNUmakefile"):
        if re.search(r"^test\s*:", read_config(root, name) or "", re.MULTILINE):
            return True
    return False


def detect_runner(root: Path) -> str:
    """The runner for the work dir `root`: one of RUNNERS, with "python" for a Python project
    whose runner (pytest or unittest) depends on what its interpreter has."""
    pkg = _package_json(root)
    if _pytest_configured(root):
        return "pytest"
    if _has(root, "go.mod"):
        return "go"
    if _has(root, "Cargo.toml"):
        return "cargo"
    if pkg is not None and isinstance(pkg.get("scripts"), dict) and "test" in pkg["scripts"]:
        return _js_runner(pkg)
    if _python_project(root):
        return "python"
    if _make_test(root):
        return "make"
    if pkg is not None:
        return _js_runner(pkg)
    raise ToolError(
        "found no test runner in the work directory: looked for pytest or unittest (a Python "
        "project), go.mod, Cargo.toml, package.json and a Makefile with a `test` target. Run "
        "the tests with run_command instead"
    )


PY_PROBE = """
for py in ./.venv/bin/python ./venv/bin/python python3 python; do
    if command -v "$py" >/dev/null 2>&1; then
        if "$py" -c 'import pytest' >/dev/null 2>&1; then echo "pytest $py"
        else echo "unittest $py"; fi
        exit 0
    fi
done
echo "none"
"""


async def python_runner(
    sandbox: Sandbox, workdir: Path, limits: SandboxLimits | None
) -> tuple[str, str]:
    result = await sandbox.exec(PY_PROBE, workdir=workdir, timeout_s=60, limits=limits)
    found = result.stdout.strip().splitlines()[-1:] if result.stdout.strip() else []
    if not found or found[0] == "none" or result.timed_out:
        raise ToolError(
            "this is a Python project, but the sandbox has no Python interpreter "
            "to run its tests with"
        )
    runner, py = found[0].split(" ", 1)
    return runner, py


# --- commands -------------------------------------------------------------------------------


def check_ids(tests: Iterable[str]) -> list[str]:
    ids = []
    for t in tests:
        t = t.strip()
        if not t:
            continue
        if t.startswith("-") or any(ch in t for ch in "\n\r\0"):
            raise ToolError(
                f"{t!r} is not a test id: ids come from run_tests' report (a "
                "pytest node id, a Go test name, a cargo test name...), with no "
                "options and no line breaks"
            )
        ids.append(t)
    return ids


def _q(args: Iterable[str]) -> str:
    return " ".join(shlex.quote(a) for a in args)


def _escape(text: str) -> str:
    """`text` as a literal in a Go (RE2) or JavaScript pattern: only the characters special
    to them are escaped (both refuse some escapes Python's `re.escape` writes)."""
    return re.sub(r"([\\.+*?()|\[\]{}^$])", r"\\\1", text)


def _go_run_pattern(ids: list[str]) -> str:
    parts = [i.split("/") for i in ids]
    if len(parts) == 1:
        return "/".join(f"^{_escape(p)}$" for p in parts[0])
    # -run takes one pattern per level: several tests run whole (their subtests included).
    tops = sorted({p[0] for p in parts})
    return "^(" + "|".join(_escape(t) for t in tops) + ")$"


def command(runner: str, ids: list[str], py: str, secs: int) -> tuple[str, str]:
    """The shell command (its stdout redirected where the report is read from) and its
    readable form."""
    report = '"$dir/report"'
    if runner == "pytest":
        args = [
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--color=no",
            "--tb=short",
            "-o",
            "junit_family=xunit1",
            "-o",
            "junit_logging=no",
            "--continue-on-collection-errors",
        ]
        cmd = f"{shlex.quote(py)} {_q(args)} --junitxml={report} {_q(ids)} >&2"
        return cmd, f"{py} -m pytest {' '.join(ids)}".rstrip()
    if runner == "unittest":
        cmd = f"{shlex.quote(py)} -c {shlex.quote(UNITTEST_DRIVER)} {report} {_q(ids)} >&2"
        return cmd, f"{py} -m unittest {' '.join(ids)}".rstrip()
    if runner == "go":
        args = ["test", "-json", f"-timeout={secs}s"]
        if ids:
            args.append(f"-run={_go_run_pattern(ids)}")
        args.append("./...")
        return f"go {_q(args)} >{report}", "go " + " ".join(args)
    if runner == "cargo":
        args = ["test", "--offline", "--no-fail-fast"]
        if ids:
            args += ["--", *ids]
        return f"cargo {_q(args)} >&2", "cargo " + " ".join(args)
    if runner == "node":
        files = [i for i in ids if re.search(r"\.[cm]?[jt]s$", i)]
        names = [i for i in ids if i not in files]
        patterns = [f"--test-name-pattern={_escape(n.split(' > ')[-1])}" for n in names]
        cmd = (
            f"node --test --test-reporter=tap --test-reporter-destination={report} "
            "--test-reporter=spec --test-reporter-destination=stderr "
            f"{_q(patterns)} {_q(files)} >&2"
        )
        return cmd, " ".join(["node --test", *patterns, *files])
    if runner == "jest":
        files = [i for i in ids if re.search(r"\.[cm]?[jt]sx?$", i)]
        names = [i for i in ids if i not in files]
        args = ["--ci", "--json", "--testLocationInResults", "--colors=false"]
        if names:  # jest matches a test's full name: its describe blocks' and its own
            args.append(
                "--testNamePattern=" + "|".join(_escape(n.replace(" > ", " ")) for n in names)
            )
        cmd = f"./node_modules/.bin/jest {_q(args)} --outputFile={report} {_q(files)} >&2"
        return cmd, " ".join(["jest", *args[4:], *files])
    if runner == "npm":
        if ids:
            raise ToolError(
                "this project's tests run through `npm test`, which cannot select "
                "tests here: run them all (tests=None), or run the test tool "
                "yourself with run_command"
            )
        return "npm test --silent >&2", "npm test"
    if runner == "make":
        if ids:
            raise ToolError(
                "this project's tests run through `make test`, which cannot "
                "select tests: run them all (tests=None), or run the test tool "
                "yourself with run_command"
            )
        return "make test >&2", "make test"
    raise ToolError(f"unknown runner {runner!r}; known: {', '.join(RUNNERS)}")
