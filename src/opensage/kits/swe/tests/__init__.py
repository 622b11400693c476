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

Here: the run and the choice of parser. `runners` finds the runner and writes its command line,
`report` holds what a run found and renders it, and each `parse_*` module reads one family of
runners' reports.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.files import workdir_relative
from opensage.kits.swe.tests import runners
from opensage.kits.swe.tests.parse_cargo import parse_cargo
from opensage.kits.swe.tests.parse_go import parse_go
from opensage.kits.swe.tests.parse_js import parse_jest, parse_node
from opensage.kits.swe.tests.parse_python import parse_pytest, parse_unittest
from opensage.kits.swe.tests.parse_summary import parse_summary, parse_summary_only
from opensage.kits.swe.tests.report import MESSAGE_LINES, ReportError, TestCase, TestReport
from opensage.sandbox.base import ExecResult, Sandbox, SandboxLimits

MAX_TIMEOUT_S = 3600.0
GRACE_S = 30.0  # past the tests' own timeout, for the report to be printed
REPORT_BYTES = 16 << 20  # kept of stdout (the report) and stderr (the raw output)
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
    """The `run_tests` tool (described in `opensage.kits.swe`); `runner` forces a runner (one
    of runners.RUNNERS) instead of detecting it."""
    report = await test_report(sandbox, workdir, tests, timeout_s, limits=limits, runner=runner)
    return report.render()


async def test_report(
    sandbox: Sandbox,
    workdir: Path,
    tests: list[str] | None = None,
    timeout_s: float = 900.0,
    *,
    limits: SandboxLimits | None = None,
    runner: str | None = None,
) -> TestReport:
    """What `run_tests` finds, as data (for a tool that compares two runs)."""
    root = Path(workdir).resolve()
    ids = runners.check_ids(tests or [])
    timeout_s = max(5.0, min(float(timeout_s), MAX_TIMEOUT_S))
    kind = runner or runners.detect_runner(root)
    py = "python3"
    if kind in ("python", "pytest", "unittest"):
        found, py = await runners.python_runner(sandbox, root, limits)
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
    cmd, shown = runners.command(kind, ids, py, int(timeout_s))
    result, sep = await run_reporting(sandbox, root, cmd, timeout_s, limits)
    return parse(kind, shown, result, sep, root, selected=bool(ids))


async def run_reporting(
    sandbox: Sandbox,
    workdir: Path,
    cmd: str,
    timeout_s: float,
    limits: SandboxLimits | None = None,
) -> tuple[ExecResult, str]:
    """A test command run by `SCRIPT` (which leaves its report behind a fresh separator, the
    second value, for `parse`), with room for the report in the output and CPU time for the
    whole timeout."""
    secs = int(timeout_s)
    sep = "OPENSAGE-REPORT-" + secrets.token_hex(16)
    base = limits or SandboxLimits()
    run_limits = dataclasses.replace(
        base,
        output_bytes=max(base.output_bytes, REPORT_BYTES),
        cpu_seconds=None if base.cpu_seconds is None else max(base.cpu_seconds, secs * 2),
    )
    result = await sandbox.exec(
        SCRIPT.format(secs=secs, cmd=cmd),
        workdir=workdir,
        env=ENV,
        timeout_s=timeout_s + GRACE_S,
        limits=run_limits,
        stdin=sep + "\n",
    )
    return result, sep


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
        parse_summary(report, result.stderr, root)
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
