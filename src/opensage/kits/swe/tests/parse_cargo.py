"""Reading `cargo test`: stable cargo has no machine-readable test output, so libtest's
`test NAME ... ok|FAILED` lines and its panic messages are read with patterns."""

from __future__ import annotations

import re
from pathlib import Path

from opensage.kits.swe.tests.report import TestCase, TestReport

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
