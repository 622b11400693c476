"""Counts from the summary line a run printed, for runners with no report of their own (`make
test`, other npm scripts) and for a report that could not be read."""

from __future__ import annotations

import re
from pathlib import Path

from opensage.kits.swe.tests.report import TestCase, TestReport

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


def parse_summary(report: TestReport, output: str, root: Path) -> None:
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
    parse_summary(report, report.output, root)
    if (
        report.counts is not None
        and report.exit_code != 0
        and not (report.counts["failed"] or report.counts["error"])
    ):
        report.counts["error"] += 1
        report.cases.append(
            TestCase(report.command, "error", f"exited with code {report.exit_code}")
        )
