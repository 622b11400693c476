"""Reading Python test runs: pytest's JUnit XML (parsed as data the tests could have written)
and the JSON lines of the unittest driver this module holds."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from opensage.kits.files import workdir_relative
from opensage.kits.swe.tests.report import ReportError, TestCase, TestReport, in_project


def _where(
    frames: list[tuple[str, int, str]], root: Path, test_file: str | None = None
) -> tuple[str, str]:
    """From a traceback's frames (outermost first): where it failed (the innermost frame in
    the project) and, when that is not in the test's own file, the test's line."""
    if not frames:
        return "", ""
    own = [f for f in frames if in_project(f[0], root)] or frames
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
