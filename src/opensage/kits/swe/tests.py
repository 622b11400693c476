"""`run_tests`: find the project's test runner, run all or some tests in the sandbox, and say
precisely what failed.

Runners, found from what the work dir holds: pytest (pytest configuration, or a Python project
whose interpreter has pytest), unittest (a Python project without pytest), go test (`go.mod`),
cargo test (`Cargo.toml`), jest or node's own test runner (`package.json`), another npm test
script, and `make test`. Each one's machine-readable report is read where it has one: pytest's
JUnit XML, `go test -json`, node's TAP stream, jest's `--json`, and for unittest a small driver
that writes one JSON line per test. Stable cargo has no machine-readable output: its libtest
`test NAME ... ok|FAILED` lines are parsed, the only human output read with patterns besides
the summary lines of `make test` and other npm scripts.

The report file is written under the sandbox's private /tmp and printed on stdout after the run,
behind a separator made fresh for each call and handed to the shell on its standard input (not
its command line or environment, which the tests could read), while the tests' own output goes
to stderr. The report is parsed as data the tests could have written: JSON, or XML without any
DTD (so no entity can expand or reach a file).

The answer's first line is `N passed, M failed` (`, K errors`, `, S skipped` when there are
any); then each failure's id (in the form the runner takes back, so `run_tests([id])` reruns
it), message and file:line; then the tail of the raw output.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import shlex
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opensage.core.tools import ToolError
from opensage.kits.files import read_regular, workdir_relative
from opensage.kits.output import LIMIT
from opensage.sandbox.base import ExecResult, Sandbox, SandboxLimits

RUNNERS = ("pytest", "unittest", "go", "cargo", "node", "jest", "npm", "make")
MAX_TIMEOUT_S = 3600.0
GRACE_S = 30.0  # past the tests' own timeout, for the report to be printed
REPORT_BYTES = 16 << 20  # kept of stdout (the report) and stderr (the raw output)
MAX_FAILURES = 30  # listed in full; the rest by id
MESSAGE_LINES = 12
MESSAGE_CHARS = 1_500
TAIL_LINES = 60
TAIL_CHARS = 6_000
CONFIG_BYTES = 1 << 20  # of a configuration file read for detection
ENV = {
    "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ folders left in the repository
    "PYTHONUNBUFFERED": "1",
    "GOPROXY": "off",
    "GOTOOLCHAIN": "local",
    "GOTELEMETRY": "off",
    "CARGO_TERM_COLOR": "never",
    "CARGO_NET_OFFLINE": "true",
    "RUST_BACKTRACE": "0",
    "NO_COLOR": "1",
    "FORCE_COLOR": "0",
    "CI": "true",
}


@dataclass
class TestCase:
    id: str  # as the runner takes it back
    outcome: str  # passed | failed | error | skipped
    message: str = ""
    location: str = ""  # file:line where it failed (relative to the work dir when inside it)
    detail: str = ""  # more of where: the test's own line when it failed deeper


@dataclass
class TestReport:
    runner: str
    command: str
    cases: list[TestCase] = field(default_factory=list)
    exit_code: int = 0
    timed_out: bool = False
    output: str = ""  # the raw output, for its tail
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] | None = None  # the runner's own totals, when it gives them

    def count(self, outcome: str) -> int:
        if self.counts is not None and outcome in self.counts:
            return self.counts[outcome]
        return sum(1 for c in self.cases if c.outcome == outcome)

    def summary(self) -> str:
        line = f"{self.count('passed')} passed, {self.count('failed')} failed"
        if errors := self.count("error"):
            line += f", {errors} errors"
        if skipped := self.count("skipped"):
            line += f", {skipped} skipped"
        return line

    def render(self, budget: int = LIMIT - 1_000) -> str:
        """The report as the model reads it, in about `budget` characters: the failures that
        fit are listed in full and the others by id, then as much of the output's tail as is
        left room for."""
        lines = [self.summary(), f"runner: {self.runner} (`{self.command}`)"]
        if self.timed_out:
            lines.append(
                "the run TIMED OUT: the counts cover the tests that ended before it; "
                "select fewer tests, or give a larger timeout_s"
            )
        lines += self.notes
        room = budget - min(TAIL_CHARS, budget // 4)  # for the failures; the tail after
        bad = [c for c in self.cases if c.outcome in ("failed", "error")]
        listed = 0
        for case in bad[:MAX_FAILURES]:
            block = [f"{'FAILED' if case.outcome == 'failed' else 'ERROR'} {case.id}"]
            if case.message:
                block += ["    " + m for m in _clip(case.message).splitlines()]
            if case.location:
                block.append(
                    f"    at {case.location}" + (f" ({case.detail})" if case.detail else "")
                )
            if listed and _size(lines) + _size(block) > room:
                break
            lines += block
            listed += 1
        if len(bad) > listed:
            rest = ", ".join(c.id for c in bad[listed : listed + 100])
            more = f" (and {len(bad) - listed - 100} more)" if len(bad) > listed + 100 else ""
            lines.append(
                _clip(
                    f"... and {len(bad) - listed} more: {rest}{more}",
                    3,
                    max(200, room - _size(lines)),
                )
            )
        if bad:
            lines.append("rerun some with run_tests([id, ...])")
        tail, cut = _tail(self.output, min(TAIL_CHARS, max(500, budget - _size(lines) - 300)))
        if tail:
            lines.append(f"--- output (last lines; exit code {self.exit_code}) ---")
            lines.append(tail)
            if cut:
                lines.append(
                    f"[the output's first {cut} lines are left out: run "
                    f"`{self.command} > out.txt 2>&1` with run_command and view "
                    "out.txt to read it whole]"
                )
        else:
            lines.append(f"(no output; exit code {self.exit_code})")
        return "\n".join(lines)


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)


# --- detection ------------------------------------------------------------------------------


def _read(root: Path, name: str) -> str | None:
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
    return any(marker in (_read(root, name) or "") for name, marker in checks.items())


def _package_json(root: Path) -> dict[str, Any] | None:
    text = _read(root, "package.json")
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
        if re.search(r"^test\s*:", _read(root, name) or "", re.MULTILINE):
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


async def _python_runner(
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


def _check_ids(tests: Iterable[str]) -> list[str]:
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


def _command(runner: str, ids: list[str], py: str, secs: int) -> tuple[str, str]:
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


SCRIPT = """IFS= read -r sep || exit 97
dir=$(mktemp -d "${{TMPDIR:-/tmp}}/opensage-tests.XXXXXX") || exit 97
timeout -k 10 -s INT {secs} {cmd} </dev/null
status=$?
printf '%s %s\\n' "$sep" "$status"
cat "$dir/report" 2>/dev/null
rm -rf "$dir"
"""


async def run_tests(
    sandbox: Sandbox,
    workdir: Path,
    tests: list[str] | None = None,
    timeout_s: float = 900.0,
    *,
    limits: SandboxLimits | None = None,
    runner: str | None = None,
) -> str:
    """The `run_tests` tool (described in `opensage.kits.swe`): `collect`'s report,
    rendered; `runner` forces a runner (one of RUNNERS) instead of detecting it."""
    report = await collect(sandbox, workdir, tests, timeout_s, limits=limits, runner=runner)
    return report.render()


async def collect(
    sandbox: Sandbox,
    workdir: Path,
    tests: list[str] | None = None,
    timeout_s: float = 900.0,
    *,
    limits: SandboxLimits | None = None,
    runner: str | None = None,
) -> TestReport:
    """`run_tests`, with the results as a `TestReport`."""
    root = Path(workdir).resolve()
    ids = _check_ids(tests or [])
    timeout_s = max(5.0, min(float(timeout_s), MAX_TIMEOUT_S))
    kind = runner or detect_runner(root)
    py = "python3"
    if kind in ("python", "pytest", "unittest"):
        found, py = await _python_runner(sandbox, root, limits)
        if kind == "python":
            kind = found
        elif kind == "pytest" and found != "pytest":
            raise ToolError(
                f"the project is set up for pytest, but {py} in the sandbox has "
                "no pytest; install it in the project's .venv, or run the tests "
                "with run_command"
            )
    if kind == "jest" and not os.path.lexists(root / "node_modules/.bin/jest"):
        raise ToolError(
            "the project's tests use jest, which is not installed in "
            "node_modules/ (the sandbox has no network to install it); install "
            "the dependencies first, or run the tests with run_command"
        )
    secs = int(timeout_s)
    cmd, shown = _command(kind, ids, py, secs)
    sep = "OPENSAGE-REPORT-" + secrets.token_hex(16)
    base = limits or SandboxLimits()
    run_limits = dataclasses.replace(
        base,
        output_bytes=max(base.output_bytes, REPORT_BYTES),
        cpu_seconds=None if base.cpu_seconds is None else max(base.cpu_seconds, secs * 2),
    )
    result = await sandbox.exec(
        SCRIPT.format(secs=secs, cmd=cmd),
        workdir=root,
        env=ENV,
        timeout_s=timeout_s + GRACE_S,
        limits=run_limits,
        stdin=sep + "\n",
    )
    return parse(kind, shown, result, sep, root, selected=bool(ids))


def parse(
    runner: str, command: str, result: ExecResult, sep: str, root: Path, selected: bool = False
) -> TestReport:
    """The report of a finished run of `runner` (of some tests only, if `selected`)."""
    status, data = _split(result.stdout, sep)
    report = TestReport(
        runner,
        command,
        exit_code=status if status is not None else result.exit_code,
        output=result.stderr,
    )
    report.timed_out = result.timed_out or status == 124
    if status is None:
        report.notes.append(
            f"the run ended before it could print its report (exit code {result.exit_code})"
        )
    parser = PARSERS[runner]
    try:
        parser(report, data, root)
    except ReportError as exc:
        report.notes.append(
            f"could not read the runner's report ({exc}); counts come from its printed summary"
        )
        report.cases.clear()
        _parse_summary(report, result.stderr, root)
    if report.timed_out:
        stopped = re.findall(r"^(\S+):(\d+): KeyboardInterrupt$", report.output, re.MULTILINE)
        report.cases.append(
            TestCase(
                "(timeout)",
                "error",
                "the run was stopped at its timeout while a test ran",
                f"{workdir_relative(stopped[-1][0], root)}:{stopped[-1][1]}" if stopped else "",
            )
        )
        if report.counts is not None:
            report.counts["error"] = report.counts.get("error", 0) + 1
    ran = sum(report.count(k) for k in ("passed", "failed", "error", "skipped"))
    nothing = runner == "pytest" and report.exit_code == 5  # pytest: no test collected
    if not ran or nothing:
        report.notes.append("no test ran" + (" (none matched the ids given)" if selected else ""))
    if (
        report.exit_code != 0
        and not report.timed_out
        and not nothing
        and not (report.count("failed") or report.count("error"))
    ):
        _unexplained_failure(report)
    return report


def _split(stdout: str, sep: str) -> tuple[int | None, str]:
    at = stdout.rfind(sep + " ")
    if at < 0:
        return None, ""
    rest = stdout[at + len(sep) + 1 :]
    first, _, data = rest.partition("\n")
    try:
        return int(first.strip()), data
    except ValueError:
        return None, data


def _unexplained_failure(report: TestReport) -> None:
    lines = [ln for ln in report.output.splitlines() if ln.strip()]
    errors = [ln for ln in lines if re.search(r"\berror\b|Error|cannot|not found", ln)]
    message = "\n".join((errors or lines)[:MESSAGE_LINES]) or "(no output)"
    what = "timed out" if report.timed_out else f"exited with code {report.exit_code}"
    report.cases.append(
        TestCase(
            id=f"({report.runner})",
            outcome="error",
            message=f"the test run {what} without reporting a failed test (a build, "
            f"collection or configuration error?):\n{message}",
        )
    )
    if report.counts is not None:
        report.counts["error"] = report.counts.get("error", 0) + 1


class ReportError(Exception):
    pass


# --- shared helpers -------------------------------------------------------------------------


def _clip(text: str, lines: int = MESSAGE_LINES, chars: int = MESSAGE_CHARS) -> str:
    text = text.strip("\n")
    kept = text.splitlines()
    cut = len(kept) > lines
    text = "\n".join(kept[:lines])
    if len(text) > chars:
        text, cut = text[:chars], True
    return text + ("\n[...]" if cut else "")


def _tail(output: str, chars: int = TAIL_CHARS) -> tuple[str, int]:
    """The last lines of the output (at most TAIL_LINES and `chars`), and how many lines
    before them are left out."""
    lines = output.rstrip().splitlines()
    kept = lines[-TAIL_LINES:]
    text = "\n".join(kept)
    if len(text) > chars:
        text = text[-chars:]
        text = text[text.find("\n") + 1 :] if "\n" in text else text
    return text, len(lines) - len(text.splitlines()) if text else 0


def _in_project(path: str, root: Path) -> bool:
    """Whether a file a traceback names is the project's own (not a dependency's)."""
    p = Path(workdir_relative(path, root))
    parts = p.parts
    return (
        bool(parts)
        and not p.is_absolute()
        and parts[0] != ".."
        and not any(part in ("site-packages", "node_modules", ".venv", "venv") for part in parts)
    )


def _where(
    frames: list[tuple[str, int, str]], root: Path, test_file: str | None = None
) -> tuple[str, str]:
    """From a traceback's frames (outermost first): where it failed (the innermost frame in
    the project) and, when that is not in the test's own file, the test's line."""
    if not frames:
        return "", ""
    own = [f for f in frames if _in_project(f[0], root)] or frames
    file, line, func = own[-1]
    location = f"{workdir_relative(file, root)}:{line}" + (f" in {func}" if func else "")
    detail = ""
    if test_file:
        mine = [f for f in own if workdir_relative(f[0], root) == test_file]
        if mine and mine[-1] != own[-1]:
            f = mine[-1]
            detail = f"from {workdir_relative(f[0], root)}:{f[1]}" + (f" in {f[2]}" if f[2] else "")
    return location, detail


# --- XML ------------------------------------------------------------------------------------


def parse_xml(text: str) -> ET.Element:
    """Parse a report the tests could have written: no DTD, so no entity of any kind (neither
    expanding ones nor ones that name a file or an address)."""
    if re.search(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        raise ReportError("the XML report has a DTD, which is refused")
    try:
        from defusedxml.ElementTree import fromstring as defused_fromstring

        root: ET.Element = defused_fromstring(text, forbid_dtd=True)
        return root
    except ImportError:
        pass
    except Exception as exc:
        raise ReportError(f"the XML report does not parse: {exc}") from None
    parser = ET.XMLParser()

    def refuse(*_: object) -> None:
        raise ReportError("the XML report declares a DTD or an entity, which is refused")

    expat = getattr(parser, "parser", None)
    if expat is not None:
        expat.StartDoctypeDeclHandler = refuse
        expat.EntityDeclHandler = refuse
        expat.ExternalEntityRefHandler = refuse
    try:
        parser.feed(text)
        return parser.close()
    except ET.ParseError as exc:
        raise ReportError(f"the XML report does not parse: {exc}") from None


# --- pytest ---------------------------------------------------------------------------------

PY_FRAME = re.compile(r"^(\S.*?):(\d+): in (\S+)$", re.MULTILINE)
PY_CRASH = re.compile(r"^(\S.*?):(\d+): (\w[\w.]*)$", re.MULTILINE)


def _pytest_id(case: ET.Element) -> str:
    file = case.get("file", "")
    classname = case.get("classname", "")
    name = case.get("name", "")
    if not classname and file:  # a module that failed to be collected
        return file
    if file:
        module = file[:-3] if file.endswith(".py") else file
        module = module.replace("/", ".").replace(os.sep, ".")
        if classname == module:
            return f"{file}::{name}"
        if classname.startswith(module + "."):
            classes = classname[len(module) + 1 :].split(".")
            return "::".join([file, *classes, name])
    # No file (an old JUnit family): guess the module's path from the class name.
    return f"{classname.replace('.', '/')}.py::{name}" if classname else name


def _pytest_frames(text: str) -> list[tuple[str, int, str]]:
    frames = [(m[1], int(m[2]), m[3]) for m in PY_FRAME.finditer(text)]
    if not frames:  # the long style: "path:line: ExceptionName" closes each entry
        frames = [(m[1], int(m[2]), "") for m in PY_CRASH.finditer(text)]
    return frames


def parse_pytest(report: TestReport, data: str, root: Path) -> None:
    if not data.strip():
        raise ReportError("pytest wrote no JUnit XML")
    tree = parse_xml(data)
    for case in tree.iter("testcase"):
        if not case.get("name"):  # the test a timeout interrupted
            continue
        cid = _pytest_id(case)
        test_file = case.get("file") or None
        outcomes = []
        for tag, outcome in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
            for child in case.findall(tag):
                outcomes.append((outcome, child))
        if not outcomes:
            report.cases.append(TestCase(cid, "passed"))
            continue
        for outcome, child in outcomes:
            text = child.text or ""
            message = child.get("message", "")
            if outcome == "skipped":
                report.cases.append(TestCase(cid, "skipped", message))
                continue
            if child.get("message") == "collection failure":
                lines = [ln[4:] for ln in text.splitlines() if ln.startswith("E   ")]
                message = "collection failed: " + ("\n".join(lines) or text.strip())
            location, detail = _where(_pytest_frames(text), root, test_file)
            if not location and test_file and case.get("line"):
                location = f"{test_file}:{int(case.get('line', '0')) + 1}"
            report.cases.append(TestCase(cid, outcome, message, location, detail))


# --- unittest -------------------------------------------------------------------------------

# Runs unittest (discovery from ".", or the named tests) and writes one JSON line per test to
# the file argv[1] as each ends, so a run cut short still reports the tests that ended.
UNITTEST_DRIVER = r"""
import json, sys, traceback, unittest
out = open(sys.argv[1], "a", buffering=1)
names = sys.argv[2:]

def frames(tb):
    return [[f.filename, f.lineno, f.name] for f in traceback.extract_tb(tb)]

class Result(unittest.TextTestResult):
    def emit(self, test, outcome, err=None, message=""):
        rec = {"id": test.id(), "outcome": outcome, "message": message}
        if err is not None:
            kind, exc, tb = err
            rec["message"] = "".join(traceback.format_exception_only(kind, exc)).strip()
            rec["frames"] = frames(tb)
        out.write(json.dumps(rec) + "\n")
    def addSuccess(self, test):
        super().addSuccess(test); self.emit(test, "passed")
    def addFailure(self, test, err):
        super().addFailure(test, err); self.emit(test, "failed", err)
    def addError(self, test, err):
        super().addError(test, err); self.emit(test, "error", err)
    def addSkip(self, test, reason):
        super().addSkip(test, reason); self.emit(test, "skipped", message=reason)
    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err); self.emit(test, "passed")
    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.emit(test, "failed", message="unexpected success (marked expectedFailure)")
    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            kind = "failed" if issubclass(err[0], test.failureException) else "error"
            self.emit(test, kind, err)
            out.write(json.dumps({"sub": subtest.id(), "id": test.id()}) + "\n")

loader = unittest.TestLoader()
suite = loader.loadTestsFromNames(names) if names else loader.discover(".", top_level_dir=".")
result = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=Result).run(suite)
sys.exit(0 if result.wasSuccessful() else 1)
"""

FAILED_LOAD = re.compile(r"^unittest\.loader\._FailedTest\.(.+)$")
PY_TB_FRAME = re.compile(r'^\s*File "(.+)", line (\d+), in (.+)$', re.MULTILINE)


def parse_unittest(report: TestReport, data: str, root: Path) -> None:
    if not data.strip() and report.exit_code != 0:
        raise ReportError("the unittest driver wrote nothing")
    last: dict[str, TestCase] = {}
    for line in data.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if not isinstance(rec, dict):
            continue
        tid = str(rec.get("id", ""))
        if "sub" in rec and tid in last:  # name the failing subtest in the message
            sub = str(rec["sub"])
            last[tid].message = f"subtest {sub[len(tid) :].strip() or sub}: {last[tid].message}"
            continue
        message = str(rec.get("message", ""))
        frames = [
            (str(f[0]), int(f[1]), str(f[2]))
            for f in rec.get("frames", [])
            if isinstance(f, list) and len(f) == 3
        ]
        if match := FAILED_LOAD.match(tid):  # a module that failed to import: the error
            tid = match[1]  # holds the import's traceback as text
            frames = [(m[1], int(m[2]), m[3]) for m in PY_TB_FRAME.finditer(message)]
            lines = [ln for ln in message.splitlines() if ln.strip()]
            message = f"could not import it: {lines[-1].strip()}" if lines else message
        frames = [f for f in frames if "/unittest/" not in f[0]]
        location, _ = _where(frames, root)
        outcome = rec.get("outcome")
        if outcome not in ("passed", "failed", "error", "skipped"):
            continue
        case = TestCase(tid, str(outcome), message, location)
        report.cases.append(case)
        last[tid] = case
    # A test with failing subtests also reports its own success: its subtests' failures count.
    failed = {c.id for c in report.cases if c.outcome in ("failed", "error")}
    report.cases = [c for c in report.cases if not (c.outcome == "passed" and c.id in failed)]


# --- go -------------------------------------------------------------------------------------

GO_FILE_LINE = re.compile(r"^\s+([\w./-]+\.go):(\d+): ?(.*)$")
GO_STACK_LINE = re.compile(r"^\s+(/\S+\.go):(\d+)")
GO_NOISE = re.compile(r"^\s*(=== (RUN|PAUSE|CONT|NAME)|--- (FAIL|PASS|SKIP):)")
GO_BUILD_FAILED = re.compile(r"^FAIL\s+(\S+) \[(build|setup) failed\]$")
GO_COMPILE_ERROR = re.compile(r"^(\S+\.go):(\d+):(?:\d+:)? (.*)$")


def _go_module(root: Path) -> str:
    text = _read(root, "go.mod") or ""
    match = re.search(r"^module\s+(\S+)", text, re.MULTILINE)
    return match[1].strip('"') if match else ""


def parse_go(report: TestReport, data: str, root: Path) -> None:
    if not data.strip():
        raise ReportError("go test printed no JSON")
    module = _go_module(root)
    outputs: dict[tuple[str, str], list[str]] = {}
    results: dict[tuple[str, str], str] = {}
    order: list[tuple[str, str]] = []
    raw: list[str] = []
    broken: list[str] = []  # packages that did not build
    for line in data.splitlines():
        try:
            ev = json.loads(line)
        except ValueError:
            raw.append(line)  # go's own messages (a build failure) come as plain lines
            if match := GO_BUILD_FAILED.match(line.strip()):
                broken.append(match[1])
            continue
        if not isinstance(ev, dict):
            continue
        key = (str(ev.get("Package", "")), str(ev.get("Test", "")))
        action = ev.get("Action")
        if action == "build-output":  # newer go: the compiler's messages as events
            raw.append(str(ev.get("Output", "")).rstrip("\n"))
        elif action == "build-fail":
            broken.append(str(ev.get("ImportPath", "")).split(" ")[0])
        elif action == "output":
            text = str(ev.get("Output", ""))
            outputs.setdefault(key, []).append(text)
            raw.append(text.rstrip("\n"))
        elif action in ("pass", "fail", "skip"):
            if key not in results:
                order.append(key)
            results[key] = str(action)
    report.output = "\n".join(raw) + ("\n" + report.output if report.output.strip() else "")

    def pkg_dir(pkg: str) -> str:
        if module and (pkg == module or pkg.startswith(module + "/")):
            return pkg[len(module) :].lstrip("/")
        return ""

    tests = [k for k in order if k[1]]
    parents = {(p, t.rsplit("/", 1)[0]) for p, t in tests if "/" in t}
    for key in tests:
        pkg, name = key
        outcome = {"pass": "passed", "fail": "failed", "skip": "skipped"}[results[key]]
        if key in parents:
            children = [k for k in tests if k[0] == pkg and k[1].startswith(name + "/")]
            # A parent counts only when it failed by itself (its subtests all passed).
            if outcome != "failed" or any(results[c] == "fail" for c in children):
                continue
        lines = [ln.rstrip("\n") for ln in outputs.get(key, []) if not GO_NOISE.match(ln)]
        message, location = _go_message(lines, pkg_dir(pkg), root)
        if outcome == "skipped":
            report.cases.append(TestCase(name, outcome, message))
            continue
        report.cases.append(
            TestCase(
                name,
                outcome,
                message if outcome == "failed" else "",
                location,
                f"package {pkg}" if outcome == "failed" else "",
            )
        )
    # A package that failed with no failing test: it did not build, or crashed outside tests.
    for key in order:
        pkg, name = key
        if name or results[key] != "fail":
            continue
        if any(c.outcome == "failed" and c.detail == f"package {pkg}" for c in report.cases):
            continue
        if pkg in broken:
            continue
        lines = [ln.rstrip("\n") for ln in outputs.get(key, [])]
        message, location = _go_message(lines, pkg_dir(pkg), root)
        report.cases.append(
            TestCase(f"({pkg})", "error", message or "the package failed", location)
        )
    for pkg in dict.fromkeys(broken):
        errors = [
            m
            for ln in report.output.splitlines() + raw
            if (m := GO_COMPILE_ERROR.match(ln.strip()))
        ]
        here = [m for m in errors if Path(m[1]).parent.as_posix() == (pkg_dir(pkg) or ".")]
        if first := next(iter(here or errors), None):
            report.cases.append(
                TestCase(
                    f"({pkg})",
                    "error",
                    f"the package does not build: {first[3]}",
                    f"{first[1]}:{first[2]}",
                )
            )
        else:
            report.cases.append(TestCase(f"({pkg})", "error", "the package does not build"))


def _go_message(lines: list[str], pkg_dir: str, root: Path) -> tuple[str, str]:
    location = ""
    for ln in lines:
        if match := GO_FILE_LINE.match(ln):
            location = f"{Path(pkg_dir, match[1]).as_posix()}:{match[2]}"
            break
    if not location:  # a panic: the first frame of the stack in the project
        for ln in lines:
            if (match := GO_STACK_LINE.match(ln)) and _in_project(match[1], root):
                location = f"{workdir_relative(match[1], root)}:{match[2]}"
                break
    text = "\n".join(m[3] if (m := GO_FILE_LINE.match(ln)) else ln for ln in lines)
    return text.strip(), location


# --- cargo (libtest's human output: stable cargo has no machine-readable test output) -------

CARGO_RESULT = re.compile(
    r"^test (.+?) \.\.\. (ok|FAILED|ignored(?:, .*)?|bench:.*)$", re.MULTILINE
)
CARGO_SECTION = re.compile(r"^---- (.+?) stdout ----$", re.MULTILINE)
CARGO_PANIC_OLD = re.compile(r"panicked at '(.*?)', ([^\s:]+):(\d+):\d+", re.DOTALL)
CARGO_PANIC_NEW = re.compile(
    r"panicked at ([^\s:]+):(\d+):\d+:\n(.*?)(?:\nnote:|\nstack "
    r"backtrace:|\Z)",
    re.DOTALL,
)
CARGO_COMPILE_ERROR = re.compile(r"^error(\[E\d+\])?: (.*)\n\s*--> ([^\s:]+):(\d+)", re.MULTILINE)


def parse_cargo(report: TestReport, data: str, root: Path) -> None:
    out = report.output
    report.notes.append(
        "(stable cargo has no machine-readable test output: read from its "
        "`test NAME ... ok|FAILED` lines)"
    )
    sections: dict[str, str] = {}
    heads = list(CARGO_SECTION.finditer(out))
    for i, head in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(out)
        body = out[head.end() : end]
        body = re.split(r"^(?:failures:|test result:)", body, maxsplit=1, flags=re.MULTILINE)[0]
        sections[head[1]] = body.strip("\n")
    for match in CARGO_RESULT.finditer(out):
        name, status = match[1], match[2]
        if status == "ok" or status.startswith("bench"):
            report.cases.append(TestCase(name, "passed"))
        elif status.startswith("ignored"):
            report.cases.append(TestCase(name, "skipped", status.partition(", ")[2]))
        else:
            body = sections.get(name, "")
            message, location = body, ""
            if panic := CARGO_PANIC_OLD.search(body):
                message, location = panic[1], f"{panic[2]}:{panic[3]}"
            elif panic := CARGO_PANIC_NEW.search(body):
                message, location = panic[3], f"{panic[1]}:{panic[2]}"
            report.cases.append(TestCase(name, "failed", message.strip(), location))
    if not report.cases and (error := CARGO_COMPILE_ERROR.search(out)):
        report.cases.append(
            TestCase("(build)", "error", f"does not compile: {error[2]}", f"{error[3]}:{error[4]}")
        )


# --- node's test runner (TAP) ---------------------------------------------------------------

TAP_RESULT = re.compile(r"^(\s*)(not ok|ok) \d+ - (.*?)(?: # (SKIP|TODO)\b ?(.*))?$", re.IGNORECASE)
TAP_COUNT = re.compile(r"^# (tests|pass|fail|cancelled|skipped|todo) (\d+)$")
JS_FRAME = re.compile(r"\(?((?:file://)?/[^\s():]+):(\d+):(\d+)\)?$")


def _yaml_block(lines: list[str], start: int) -> tuple[dict[str, str], int]:
    """The simple YAML block (`---` to `...`) node writes after a test line: its scalar fields,
    single-quoted or as `|-` blocks."""
    fields: dict[str, str] = {}
    i = start
    if i >= len(lines) or lines[i].strip() != "---":
        return fields, start
    indent = len(lines[i]) - len(lines[i].lstrip())
    i += 1
    while i < len(lines) and lines[i].strip() != "...":
        line = lines[i]
        match = re.match(r"^(\s*)([\w-]+): ?(.*)$", line)
        if not match or len(match[1]) != indent:
            i += 1
            continue
        key, value = match[2], match[3]
        if value in ("|-", "|", ">-", ">"):
            block = []
            i += 1
            while i < len(lines) and (
                not lines[i].strip() or len(lines[i]) - len(lines[i].lstrip()) > indent
            ):
                if lines[i].strip() == "...":
                    break
                block.append(lines[i][indent + 2 :])
                i += 1
            fields[key] = "\n".join(block).strip("\n")
            continue
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1].replace("''", "'")
        fields[key] = value
        i += 1
    return fields, i + 1


def parse_node(report: TestReport, data: str, root: Path) -> None:
    if not data.strip():
        raise ReportError("node --test wrote no TAP report")
    lines = data.splitlines()
    counts: dict[str, int] = {}
    stack: list[tuple[int, str]] = []  # (indent, name) of the suites around the next result
    i = 0
    while i < len(lines):
        line = lines[i]
        if match := TAP_COUNT.match(line):
            counts[match[1]] = int(match[2])
            i += 1
            continue
        sub = re.match(r"^(\s*)# Subtest: (.*)$", line)
        if sub:
            depth = len(sub[1])
            stack = [s for s in stack if s[0] < depth]
            stack.append((depth, sub[2]))
            i += 1
            continue
        match = TAP_RESULT.match(line)
        if not match:
            i += 1
            continue
        depth, ok, name = len(match[1]), match[2].lower() == "ok", match[3]
        directive, reason = (match[4] or "").upper(), match[5] or ""
        fields, i = _yaml_block(lines, i + 1)
        stack = [s for s in stack if s[0] < depth]
        ancestors = [s[1] for s in stack]
        if fields.get("type") == "suite" or fields.get("failureType") == "subtestsFailed":
            continue  # its tests are reported themselves
        tid = " > ".join([*ancestors, name])
        if directive in ("SKIP", "TODO"):
            report.cases.append(TestCase(tid, "skipped", reason))
        elif ok:
            report.cases.append(TestCase(tid, "passed"))
        else:
            message = fields.get("error", "")
            location = ""
            for frame in fields.get("stack", "").splitlines():
                if (m := JS_FRAME.search(frame.strip())) and _in_project(
                    m[1].removeprefix("file://"), root
                ):
                    location = f"{workdir_relative(m[1].removeprefix('file://'), root)}:{m[2]}"
                    break
            if not location and (loc := fields.get("location")):
                m = JS_FRAME.search(loc)
                location = (
                    f"{workdir_relative(m[1].removeprefix('file://'), root)}:{m[2]}" if m else loc
                )
            outcome = "error" if fields.get("failureType") == "cancelledByParent" else "failed"
            report.cases.append(TestCase(tid, outcome, message, location))
    if counts:
        report.counts = {
            "passed": counts.get("pass", 0),
            "failed": counts.get("fail", 0),
            "error": counts.get("cancelled", 0),
            "skipped": counts.get("skipped", 0) + counts.get("todo", 0),
        }


# --- jest -----------------------------------------------------------------------------------


def parse_jest(report: TestReport, data: str, root: Path) -> None:
    try:
        doc = json.loads(data)
    except ValueError:
        raise ReportError("jest wrote no JSON report") from None
    if not isinstance(doc, dict):
        raise ReportError("jest's JSON report is not an object")
    for suite in doc.get("testResults") or []:
        if not isinstance(suite, dict):
            continue
        file = workdir_relative(str(suite.get("name", "")), root)
        assertions = suite.get("assertionResults") or []
        if suite.get("status") == "failed" and not assertions:
            text = textwrap.dedent(str(suite.get("message", ""))).strip()
            report.cases.append(TestCase(file, "error", text.removeprefix("● ").strip()))
        for a in assertions:
            if not isinstance(a, dict):
                continue
            tid = " > ".join(
                [*(str(t) for t in a.get("ancestorTitles") or []), str(a.get("title", ""))]
            )
            status = a.get("status")
            if status == "passed":
                report.cases.append(TestCase(tid, "passed"))
            elif status in ("pending", "skipped", "todo", "disabled"):
                report.cases.append(TestCase(tid, "skipped"))
            else:
                message = "\n".join(str(m) for m in a.get("failureMessages") or [])
                location = ""
                for frame in message.splitlines():
                    if (m := JS_FRAME.search(frame.strip())) and _in_project(m[1], root):
                        location = f"{workdir_relative(m[1], root)}:{m[2]}"
                        break
                loc = a.get("location")
                if not location and isinstance(loc, dict):
                    location = f"{file}:{loc.get('line')}"
                head = [ln for ln in message.splitlines() if not ln.strip().startswith("at ")]
                report.cases.append(
                    TestCase(
                        tid,
                        "failed",
                        "\n".join(head).strip(),
                        location,
                        "" if location.startswith(file) else f"in {file}",
                    )
                )


# --- summaries of human output (make test, npm test, and when a report is unreadable) --------

SUMMARY_PARTS = re.compile(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed|deselected)")
CARGO_TOTALS = re.compile(
    r"^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored", re.MULTILINE
)
PLAIN_TOTALS = re.compile(
    r"^(?:\w+: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$", re.MULTILINE
)
PYTEST_TOTALS = re.compile(
    r"^=+ (.*\d+ (?:passed|failed|errors?|skipped).*) in [\d.]+s.* =+$", re.MULTILINE
)


def _parse_summary(report: TestReport, output: str, root: Path) -> None:
    counts = {"passed": 0, "failed": 0, "error": 0, "skipped": 0}
    found = False
    for match in PYTEST_TOTALS.finditer(output):
        found = True
        for n, kind in SUMMARY_PARTS.findall(match[1]):
            key = {"errors": "error", "xfailed": "passed", "xpassed": "failed"}.get(kind, kind)
            if key in counts:
                counts[key] += int(n)
    for match in CARGO_TOTALS.finditer(output):
        found = True
        counts["passed"] += int(match[1])
        counts["failed"] += int(match[2])
        counts["skipped"] += int(match[3])
    if not found:
        for match in PLAIN_TOTALS.finditer(output):
            found = True
            counts["passed"] += int(match[1])
            counts["failed"] += int(match[2])
            counts["skipped"] += int(match[3] or 0)
    if found:
        report.counts = counts
        report.notes.append("(counts read from the summary the tests printed)")
        return
    outcome = "passed" if report.exit_code == 0 else "failed"
    report.cases.append(
        TestCase(
            report.command,
            outcome,
            "" if outcome == "passed" else f"exited with code {report.exit_code}",
        )
    )
    report.notes.append("(the output names no counts: the whole command counts as one test)")


def parse_summary_only(report: TestReport, data: str, root: Path) -> None:
    _parse_summary(report, report.output, root)
    if (
        report.counts is not None
        and report.exit_code != 0
        and not (report.counts["failed"] or report.counts["error"])
    ):
        report.counts["error"] += 1
        report.cases.append(
            TestCase(report.command, "error", f"exited with code {report.exit_code}")
        )


PARSERS = {
    "pytest": parse_pytest,
    "unittest": parse_unittest,
    "go": parse_go,
    "cargo": parse_cargo,
    "node": parse_node,
    "jest": parse_jest,
    "npm": parse_summary_only,
    "make": parse_summary_only,
}
