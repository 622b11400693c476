"""`debug`: run a program or a test under a debugger without a person at the keyboard, stop at
breakpoints, and report what the program held there.

A Python command (`python3 prog.py ...`, `python -m pytest ...`, `pytest ...`, `prog.py ...`)
runs under a small `bdb.Bdb` driver: at each breakpoint hit it evaluates the expressions in the
frame (or lists the frame's locals when none are given), records the stack, and goes on. Any
other command is a compiled program run under gdb in batch mode, with a gdb Python script whose
breakpoints do the same and never stop the program; a crash (a signal) is reported with its
stack. Hits are capped (after the cap the program runs on without breakpoints), and the report
says so. Everything runs in the sandbox: the driver is passed on the command line, its records
come back on stdout behind a separator made fresh for each call.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from opensage.core.tools import ToolError
from opensage.kits.files import resolve_inside, workdir_relative
from opensage.kits.output import LIMIT
from opensage.kits.swe.debug_drivers import GDB_DRIVER, GDB_SCRIPT, PY_DRIVER, PY_SCRIPT
from opensage.sandbox.base import ExecResult, Sandbox, SandboxLimits

MAX_HITS = 20
MAX_TIMEOUT_S = 1800.0
MAX_BREAKPOINTS = 20
MAX_EXPRESSIONS = 10
VALUE_CHARS = 300
STACK_FRAMES = 40  # recorded per hit; the answer shows the project's frames of them
SHOWN_FRAMES = 6
OUTPUT_LINES = 40
OUTPUT_CHARS = 4_000
PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")
SHELL_OPERATORS = ("|", "||", "&", "&&", ";", ">", ">>", "<", "<<", "2>", "2>&1", "$(", "`")
ENV = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1"}
# What gdb says of its own that the report already tells better.
GDB_NOISE = re.compile(
    r"^(Breakpoint \d+ at |\[Thread debugging using|Using host libthread_db|"
    r"\[Inferior \d+ \(process \d+\) |warning: Error disabling address space)"
)


@dataclass
class Hit:
    n: int
    where: str
    values: list[tuple[str, str]]
    locals: list[tuple[str, str]]
    stack: list[str]
    bp: int | None = None  # which breakpoint (its index in the call's list)


@dataclass
class DebugReport:
    debugger: str
    command: str
    hits: list[Hit] = field(default_factory=list)
    capped: bool = False
    bad: dict[int, str] = field(default_factory=dict)  # breakpoints not set, and why
    crash: str = ""  # an uncaught exception, or the signal that stopped the program
    crash_stack: list[str] = field(default_factory=list)
    exit_code: int | None = None
    timed_out: bool = False
    output: str = ""
    errors: list[str] = field(default_factory=list)

    def render(self, breakpoints: list[str], max_hits: int) -> str:
        if self.timed_out:
            end = "the program was killed at the timeout"
        elif self.exit_code is None:
            end = "the program did not run to its end"
        else:
            end = f"the program exited with code {self.exit_code}"
        lines = [
            f"{len(self.hits)} breakpoint hits under {self.debugger}; {end}",
            f"command: {self.command}",
        ]
        if self.capped:
            lines.append(
                f"(stopped recording at {max_hits} hits: the program ran on without "
                "breakpoints; use fewer or later breakpoints to see further)"
            )
        lines += [
            f"breakpoint {breakpoints[i] if 0 <= i < len(breakpoints) else i} not set: {why}"
            for i, why in self.bad.items()
        ]
        lines += [f"debugger error: {e}" for e in self.errors]
        room = LIMIT - 1_000 - OUTPUT_CHARS  # for the hits; the program's output after
        for listed, hit in enumerate(self.hits):
            block = [f"hit {hit.n} at {hit.where}"]
            block += [f"    {name} = {value}" for name, value in hit.values]
            if hit.locals:
                block.append("    locals: " + ", ".join(f"{k}={v}" for k, v in hit.locals))
            if hit.stack[1:]:  # the first frame is the hit itself
                block.append("    called from: " + _stack_line(hit.stack[1:]))
            if listed and sum(len(x) + 1 for x in [*lines, *block]) > room:
                lines.append(
                    f"[{len(self.hits) - listed} more hits not shown: the answer is "
                    "as long as one may be; use fewer expressions, or fewer or later "
                    "breakpoints]"
                )
                break
            lines += block
        reached = {h.bp for h in self.hits}
        for i, bp in enumerate(breakpoints):
            if i not in reached and i not in self.bad and not self.capped:
                lines.append(
                    f"breakpoint {bp} was never hit (not reached, or not a line with code)"
                )
        if self.crash:
            lines.append(f"the program died: {self.crash}")
            if self.crash_stack:
                lines.append("    stack: " + _stack_line(self.crash_stack))
        tail = "\n".join(self.output.rstrip().splitlines()[-OUTPUT_LINES:])[-OUTPUT_CHARS:]
        lines.append("--- program output (last lines) ---" if tail else "(no program output)")
        if tail:
            lines.append(tail)
        return "\n".join(lines)


def _stack_line(frames: list[str]) -> str:
    """The frames in the project (innermost first), the others counted, not listed."""
    mine = [
        f
        for f in frames
        if not f.startswith(("/", "?", "<"))
        and "site-packages/" not in f
        and not f.startswith((".venv/", "venv/"))
    ]
    shown = mine[:SHOWN_FRAMES]
    others = len(frames) - len(shown)
    if not shown:
        return f"{others} frames outside the project"
    return " <- ".join(shown) + (f" (+{others} frames outside the project)" if others else "")


def _breakpoint(
    spec: str, root: Path, python: bool, home: Path | None = None
) -> tuple[str, int] | str:
    spec = spec.strip()
    match = re.fullmatch(r"(.+):(\d+)", spec)
    if not match:
        if not python and re.fullmatch(r"[A-Za-z_][\w:~]*", spec):
            return spec  # a function name, which gdb takes too
        raise ToolError(f"breakpoint {spec!r} is not of the form file:line (e.g. 'src/calc.py:12')")
    file, line = match[1], int(match[2])
    if any(ch in file for ch in "\n\r\0\"'"):
        raise ToolError(f"breakpoint {spec!r} names no plausible file")
    try:
        target = resolve_inside(root, file, home)
    except ToolError as exc:
        raise ToolError(f"breakpoint {spec!r}: {exc}") from None
    if python:
        if not target.is_file():
            raise ToolError(f"breakpoint {spec!r}: no file {file!r} in the work directory")
        return str(target), line
    return f"{file}:{line}"


def _python_target(argv: list[str]) -> tuple[str | None, str | None, list[str], str | None]:
    """(interpreter or None, module, script, args) of a Python command, or None values when it
    is not one."""
    head = argv[0]
    name = PurePosixPath(head).name
    if PYTHON.match(name):
        i = 1
        while i < len(argv) and argv[i].startswith("-") and argv[i] not in ("-m", "-c"):
            i += 1
        if i < len(argv) and argv[i] == "-m" and i + 1 < len(argv):
            return head, argv[i + 1], argv[i + 2 :], None
        if i < len(argv) and argv[i] == "-c":
            raise ToolError(
                "debug runs a script or a module (python3 prog.py, python3 -m "
                "pytest ...), not `python -c`: write the code to a file first"
            )
        if i >= len(argv):
            raise ToolError("the command names an interpreter but no script or module to run")
        return head, None, argv[i + 1 :], argv[i]
    if name in ("pytest", "py.test"):
        return None, "pytest", argv[1:], None
    if name.endswith(".py"):
        return None, None, argv[1:], head
    return None, None, [], None


async def debug(
    sandbox: Sandbox,
    workdir: Path,
    command: str,
    breakpoints: list[str],
    expressions: list[str] | None = None,
    timeout_s: float = 120.0,
    *,
    limits: SandboxLimits | None = None,
    max_hits: int = MAX_HITS,
    home: Path | None = None,
) -> str:
    """The `debug` tool (described in `opensage.kits.swe`) in the work dir `workdir`:
    Python commands under the bdb driver, others under gdb; breakpoints outside the work dir
    (or in OpenSage's `home`) are refused."""
    root = Path(workdir).resolve()
    expressions = [e for e in (expressions or []) if e.strip()]
    if not breakpoints:
        raise ToolError("give at least one breakpoint, as file:line (e.g. 'src/calc.py:12')")
    if len(breakpoints) > MAX_BREAKPOINTS or len(expressions) > MAX_EXPRESSIONS:
        raise ToolError(
            f"at most {MAX_BREAKPOINTS} breakpoints and {MAX_EXPRESSIONS} expressions at a time"
        )
    if any(ch in e for e in expressions for ch in "\n\r\0"):
        raise ToolError("an expression must be one line")
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ToolError(f"the command does not parse as a command line: {exc}") from None
    if not argv:
        raise ToolError("the command is empty: give the program to run and its arguments")
    if any(a in SHELL_OPERATORS or a.startswith(("$(", "`", ">", "<", "2>")) for a in argv):
        raise ToolError(
            "give one program and its arguments, without shell operators (pipes, "
            "redirections, ;); build or prepare first with run_command"
        )
    interpreter, module, args, script = _python_target(argv)
    python = module is not None or script is not None
    if not python and all(b.strip().split(":")[0].endswith(".py") for b in breakpoints):
        python, script, args = True, argv[0], argv[1:]  # a Python script with a shebang
    timeout_s = max(1.0, min(float(timeout_s), MAX_TIMEOUT_S))
    sep = "OPENSAGE-DEBUG-" + secrets.token_hex(16)
    points = [_breakpoint(b, root, python, home) for b in breakpoints]
    config: dict[str, Any] = {
        "sep": sep,
        "expressions": expressions,
        "max_hits": max_hits,
        "value_chars": VALUE_CHARS,
        "frames": STACK_FRAMES,
    }
    if python:
        config |= {"breakpoints": points, "module": module, "script": script, "args": args}
        shell = PY_SCRIPT.format(
            python=shlex.quote(interpreter) if interpreter else '"$py"',
            driver=shlex.quote(PY_DRIVER),
            config=shlex.quote(json.dumps(config)),
        )
        debugger = "the Python debugger (bdb)"
    else:
        config["breakpoints"] = points
        encoded = base64.b64encode(json.dumps(config).encode()).decode()
        script_text = f"CONFIG = {encoded!r}\n{GDB_DRIVER}"
        shell = GDB_SCRIPT.format(
            eof="OPENSAGE_EOF_" + secrets.token_hex(8),
            script=script_text,
            argv=" ".join(map(shlex.quote, argv)),
        )
        debugger = "gdb"
    result = await sandbox.exec(shell, workdir=root, env=ENV, timeout_s=timeout_s, limits=limits)
    report = parse(result, sep, root, debugger, command)
    if not python and "No symbol table is loaded" in result.stdout + result.stderr:
        report.errors.append("the program has no debug information: build it with -g")
    if (
        not python
        and re.search(r"not in executable format|No such file or directory", result.stderr)
        and not report.hits
    ):
        report.errors.append(f"gdb could not load {argv[0]!r}: " + result.stderr.strip()[:300])
    shown = [b if isinstance(b, str) else f"{workdir_relative(b[0], root)}:{b[1]}" for b in points]
    return report.render(shown, max_hits)


def parse(result: ExecResult, sep: str, root: Path, debugger: str, command: str) -> DebugReport:
    """Split the driver's records from the program's output and read them."""
    report = DebugReport(debugger, command, timed_out=result.timed_out)
    pieces = result.stdout.split("\n" + sep + " ")
    output = [pieces[0]]
    for piece in pieces[1:]:
        record, _, rest = piece.partition("\n")
        output.append(rest)
        try:
            rec = json.loads(record)
        except ValueError:
            continue
        if isinstance(rec, dict):
            _apply(report, rec, root)
    report.output = "".join(output)
    if result.stderr.strip():
        report.output += ("\n" if report.output.strip() else "") + result.stderr
    if debugger == "gdb":
        report.output = "\n".join(ln for ln in report.output.split("\n") if not GDB_NOISE.match(ln))
    return report


def _frame(f: Any, root: Path) -> str:
    try:
        file, line, func = str(f[0]), int(f[1]), str(f[2])
    except (TypeError, ValueError, IndexError):
        return "?"
    return f"{workdir_relative(file, root)}:{line} in {func}"


def _apply(report: DebugReport, rec: dict[str, Any], root: Path) -> None:
    kind = rec.get("kind")
    if kind == "hit":

        def pairs(key: str) -> list[tuple[str, str]]:
            return [
                (str(p[0]), str(p[1]))
                for p in rec.get(key) or []
                if isinstance(p, list) and len(p) == 2
            ]

        where = _frame([rec.get("file"), rec.get("line"), rec.get("function")], root)
        stack = [_frame(f, root) for f in rec.get("stack") or []]
        bp = rec.get("bp")
        report.hits.append(
            Hit(
                int(rec.get("n") or len(report.hits) + 1),
                where,
                pairs("values"),
                pairs("locals"),
                stack,
                bp if isinstance(bp, int) else None,
            )
        )
    elif kind == "capped":
        report.capped = True
    elif kind == "bad_breakpoint":
        bp = rec.get("bp")
        report.bad[bp if isinstance(bp, int) else -1 - len(report.bad)] = str(
            rec.get("message", "")
        )
    elif kind == "exception":
        report.crash = str(rec.get("message", ""))
        report.crash_stack = [_frame(f, root) for f in rec.get("stack") or []]
    elif kind == "signal":
        report.crash = f"signal {rec.get('name')}"
        report.crash_stack = [_frame(f, root) for f in rec.get("stack") or []]
    elif kind == "error":
        report.errors.append(str(rec.get("message", "")))
    elif kind == "end":
        code = rec.get("code")
        report.exit_code = code if isinstance(code, int) else None
