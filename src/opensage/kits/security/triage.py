"""`triage` (run crashing inputs and group them by stack signature) and `crash_context` (gdb in
batch mode at the crash: the stack with arguments, and the locals of the top project frames).
"""

from __future__ import annotations

import asyncio
import glob
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from opensage.core.tools import ToolError, truncate
from opensage.kits.security.poc import NO_CORE, Outcome, arguments, execute
from opensage.kits.security.sanitizer import Frame, parse_report
from opensage.kits.security.workbench import Workbench

MAX_INPUTS = 500
PARALLEL = 2  # inputs run at once
CONTEXT_TIMEOUT_S = 60.0
CONTEXT_FRAMES = 3  # project frames shown with their locals
OTHER_FRAMES = 12  # further frames shown as one line each
LOCAL_CHARS = 300  # of one local's value
CONTEXT_CHARS = 12_000
# gdb's settings: no pager, no line wrapping, values cut short, the report's abort() a stop.
GDB_SETTINGS = (
    "set pagination off",
    "set width 0",
    "set confirm off",
    "set filename-display absolute",
    "set print entry-values no",
    "set print frame-arguments all",
    "set print elements 32",
    "set print repeats 8",
    "set print max-depth 2",
    "set print null-stop on",
)
GDB_FRAME = re.compile(
    r"^#(?P<index>\d+)\s+(?:0x[0-9a-f]+ in )?(?P<function>.+?) "
    r"\((?P<args>.*)\)(?: at (?P<file>\S+):(?P<line>\d+)| from (?P<lib>\S+))?$"
)


@dataclass(frozen=True, slots=True)
class Group:
    signature: str
    kind: str
    top_frame: str
    inputs: tuple[str, ...]


async def run_inputs(
    bench: Workbench, binary: str, inputs: list[str], timeout_s: float = 10.0
) -> list[tuple[str, Outcome]]:
    """Each input with what running `binary` on it did, a few at a time."""
    gate = asyncio.Semaphore(PARALLEL)

    async def one(path: str) -> tuple[str, Outcome]:
        async with gate:
            return path, await execute(bench, binary, path, None, timeout_s)

    return list(await asyncio.gather(*(one(p) for p in inputs)))


def group(results: list[tuple[str, Outcome]]) -> list[Group]:
    """The crashing inputs grouped by stack signature, the largest group first."""
    groups: dict[str, list[tuple[str, Outcome]]] = {}
    for path, result in results:
        if result.crashed and result.crash is not None:
            groups.setdefault(result.crash.signature, []).append((path, result))
    out = []
    for sig, members in groups.items():
        crash = members[0][1].crash
        assert crash is not None
        top = crash.top_frame
        out.append(Group(sig, crash.kind, str(top) if top else "?", tuple(p for p, _ in members)))
    return sorted(out, key=lambda g: (-len(g.inputs), g.signature))


async def triage(bench: Workbench, binary: str, crashes: list[str]) -> str:
    """Run a binary on each crashing input and group the inputs by stack signature: one row
    per distinct bug (signature, kind, top frame in project code, inputs), then the inputs
    that did not crash.

    Args:
        binary: the sanitizer build to run, relative to the work directory.
        crashes: the inputs: files, folders (each file in them) or glob patterns such as
            "crashes/crash-*", relative to the work directory.
    """
    bench.executable(binary)
    inputs = expand(bench, crashes)
    results = await run_inputs(bench, binary, inputs)
    groups = group(results)
    rows = [("signature", "kind", "top frame", "inputs")]
    for g in groups:
        shown = ", ".join(g.inputs[:5]) + (
            f" (+{len(g.inputs) - 5} more)" if len(g.inputs) > 5 else ""
        )
        rows.append((g.signature, g.kind, g.top_frame, shown))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    table = "\n".join(
        f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}" for r in rows
    )
    quiet = [(p, o) for p, o in results if not o.crashed]
    crashed = len(results) - len(quiet)
    head = (
        f"{len(results)} input{'s' if len(results) != 1 else ''}: {crashed} crashed, "
        f"{len(groups)} distinct signature{'s' if len(groups) != 1 else ''}"
    )
    parts = [head]
    if groups:
        parts.append(table)
    if quiet:
        parts.append("did not crash: " + ", ".join(f"{p} ({o.status})" for p, o in quiet))
    return "\n".join(parts)


def expand(bench: Workbench, entries: list[str]) -> list[str]:
    """Files, folders and glob patterns as the input files they name (relative paths)."""
    if not entries:
        raise ToolError("no inputs given: crashes is a list of files, folders or patterns")
    found: list[str] = []
    for entry in entries:
        if glob.has_magic(entry):
            matches = sorted(glob.glob(entry, root_dir=bench.root))
            if not matches:
                raise ToolError(f"no file matches {entry!r} in the work directory")
            paths = [bench.path(m, "input") for m in matches]
        else:
            path = bench.path(entry, "input")
            paths = sorted(p for p in path.iterdir()) if path.is_dir() else [path]
        found += [bench.relative(p) for p in paths if p.is_file() and not p.is_symlink()]
    found = list(dict.fromkeys(found))
    if len(found) > MAX_INPUTS:
        raise ToolError(
            f"{len(found)} inputs is more than {MAX_INPUTS}; triage a part of "
            "them (a narrower pattern), or let fuzz deduplicate them first"
        )
    return found


async def crash_context(
    bench: Workbench, binary: str, poc: str, args: list[str] | None = None
) -> str:
    """Run a binary on an input under gdb (batch mode) and show the stack at the crash: each
    frame with its arguments, and the local variables of the top frames in the project's
    code, as they are when the sanitizer reports (or the signal arrives).

    Args:
        binary: the sanitizer build, relative to the work directory.
        poc: the crashing input, relative to the work directory.
        args: the program's arguments, "{poc}" standing for the input's path (by default the
            path is the only argument); with no "{poc}" the input is given on stdin.
    """
    program = bench.executable(binary)
    argv, stdin = arguments(bench, poc, args)
    toolchain = await bench.toolchain()
    if not toolchain.gdb:
        raise ToolError(
            "gdb is not installed in the sandbox (Debian: apt-get install gdb; for "
            "the container backend, rebuild its image)"
        )
    run = "run" + (f" < {shlex.quote(str(stdin))}" if stdin else "")
    gdb = [toolchain.gdb, "-q", "-batch", "-nx"]
    for setting in (*GDB_SETTINGS, run, "bt full 64"):
        gdb += ["-ex", setting]
    result = await bench.sandbox.exec(
        [*NO_CORE, *gdb, "--args", str(program), *argv],
        workdir=bench.root,
        env=bench.sanitizer_env(toolchain, leaks=False, abort=True),
        timeout_s=CONTEXT_TIMEOUT_S,
        limits=bench.sanitized_limits(CONTEXT_TIMEOUT_S),
    )
    if result.timed_out:
        raise ToolError(
            f"gdb ran past {CONTEXT_TIMEOUT_S:g} s (the program hangs under it?) and was stopped"
        )
    return describe_context(result.stdout, result.stderr, bench.root)


def describe_context(gdb_out: str, program_err: str, root: Path) -> str:
    """gdb's output cut to what matters: why it stopped, then the frames."""
    text = gdb_out.replace(f"{root}/", "")
    stop = re.search(
        r"^(?:Program|Thread \d+ \"[^\"]*\") (?:received|terminated with) signal "
        r".*$",
        text,
        re.MULTILINE,
    )
    if stop is None:
        ended = re.search(r"^\[Inferior \d+ \(process \d+\) exited.*\]$", text, re.MULTILINE)
        why = ended[0] if ended else "gdb did not stop at a crash"
        return (
            f"no crash under gdb: {why}.\n--- gdb ---\n"
            f"{truncate(text.strip(), 3000)}\n--- stderr ---\n"
            f"{truncate(program_err.strip(), 2000)}"
        )
    crash = parse_report(program_err, root)
    parts = []
    if crash is not None:
        parts.append(
            f"crash: {crash.kind} ({crash.sanitizer})"
            + (f", {crash.access}" if crash.access else "")
            + (f" at {crash.top_frame}" if crash.top_frame else "")
        )
    parts.append(f"gdb: {stop[0].strip()}")
    parts += _frames(text[stop.end() :])
    return truncate("\n".join(parts), CONTEXT_CHARS)


def _frames(text: str) -> list[str]:
    """The backtrace: the top project frames with their locals, the others one line each."""
    blocks: list[tuple[Frame, str, list[str]]] = []
    for line in text.splitlines():
        match = GDB_FRAME.match(line)
        if match:
            frame = Frame(
                int(match["index"]),
                match["function"],
                match["file"],
                int(match["line"]) if match["line"] else None,
                module=match["lib"],
            )
            blocks.append((frame, match["args"], []))
        elif blocks and line.startswith("        "):
            blocks[-1][2].append(line.strip())
    shown, others, skipped = [], 0, []
    project_seen = 0
    for frame, args, local_lines in blocks:
        where = f" at {frame.file}:{frame.line}" if frame.file else ""
        header = f"#{frame.index} {frame.function} ({truncate(args, LOCAL_CHARS)}){where}"
        if frame.project and project_seen < CONTEXT_FRAMES:
            project_seen += 1
            values = [f"    {truncate(v, LOCAL_CHARS)}" for v in local_lines if v != "No locals."]
            shown.append("\n".join([header, *(values or ["    (no locals)"])]))
        elif project_seen == 0:
            skipped.append(frame.index)  # the runtime's frames above the project's
        elif others < OTHER_FRAMES:
            others += 1
            shown.append(header)
    if skipped:
        shown.insert(
            0,
            f"(frames #{skipped[0]}-#{skipped[-1]}: the C library and the "
            "sanitizer's runtime, reporting)"
            if len(skipped) > 1
            else f"(frame #{skipped[0]}: the C library or the sanitizer's runtime)",
        )
    if not project_seen:
        shown.append("no frame is in the project's code (built without -g?); the stack:")
        shown += [f"#{f.index} {f}" for f, _, _ in blocks[:OTHER_FRAMES]]
    return shown
