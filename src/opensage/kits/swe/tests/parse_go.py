"""Reading `go test -json`: each test's outcome and output, subtests under their parents, and
packages that failed to build."""

from __future__ import annotations

import json
import re
from pathlib import Path

from opensage.kits.files import workdir_relative
from opensage.kits.swe.tests.report import ReportError, TestCase, TestReport, in_project
from opensage.kits.swe.tests.runners import read_config

GO_FILE_LINE = re.compile(r"^\s+([\w./-]+\.go):(\d+): ?(.*)$")
GO_STACK_LINE = re.compile(r"^\s+(/\S+\.go):(\d+)")
GO_NOISE = re.compile(r"^\s*(=== (RUN|PAUSE|CONT|NAME)|--- (FAIL|PASS|SKIP):)")
GO_BUILD_FAILED = re.compile(r"^FAIL\s+(\S+) \[(build|setup) failed\]$")
GO_COMPILE_ERROR = re.compile(r"^(\S+\.go):(\d+):(?:\d+:)? (.*)$")


def _go_module(root: Path) -> str:
    text = read_config(root, "go.mod") or ""
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
            if (match := GO_STACK_LINE.match(ln)) and in_project(match[1], root):
                location = f"{workdir_relative(match[1], root)}:{match[2]}"
                break
    text = "\n".join(m[3] if (m := GO_FILE_LINE.match(ln)) else ln for ln in lines)
    return text.strip(), location
