"""Reading JavaScript test runs: node's own test runner (its TAP stream) and jest (`--json`)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

from opensage.kits.files import workdir_relative
from opensage.kits.swe.tests.report import ReportError, TestCase, TestReport, in_project

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
                if (m := JS_FRAME.search(frame.strip())) and in_project(
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
                    if (m := JS_FRAME.search(frame.strip())) and in_project(m[1], root):
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
