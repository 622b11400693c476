"""What `fuzz` can fuzz, and how each kind runs in the sandbox (`resolve_target`).

A libFuzzer target is an ELF binary linked with libFuzzer's driver (`build(fuzzer=True)`, i.e.
clang's -fsanitize=fuzzer): told apart from other programs by the driver's flag table in the
file. A Python target is a .py file that either defines `TestOneInput(data: bytes)` at module
level, which is then imported under `atheris.instrument_imports()` (so the target and every
module it imports are instrumented for coverage) and fuzzed by a driver of ours, or calls
`atheris.Setup(...)` and `atheris.Fuzz()` itself (an OSS-Fuzz style script, run as it is; it
must instrument its own code). A file that defines TestOneInput and calls atheris.Setup only
under `if __name__ == "__main__"` is imported like the first kind, so it can be minimized (by
`PY_MINIMIZER`). The interpreter is the sandbox's python3 if it can import atheris, else the one
running OpenSage, which both backends show read-only at its own path (a container image seldom
has atheris: Debian packages none). A Python target's crash is an uncaught exception, read by
`python_crash`.
"""

from __future__ import annotations

import mmap
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.security.libfuzzer import LIBFUZZER_MARK
from opensage.kits.security.sanitizer import Crash, Frame, signature
from opensage.kits.security.workbench import PROBE_TIMEOUT_S, Workbench

# How atheris prints a Python target's crash: this line, then the traceback.
PY_EXCEPTION = "=== Uncaught Python exception: ==="
PY_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>.+)$')

# Our driver for a Python target defining TestOneInput: argv = [target, libFuzzer flags...].
ATHERIS_DRIVER = """\
import importlib, os, sys
import atheris
target = sys.argv[1]
sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
with atheris.instrument_imports():
    module = importlib.import_module(os.path.splitext(os.path.basename(target))[0])
atheris.Setup([target, *sys.argv[2:]], module.TestOneInput)
atheris.Fuzz()
"""

# Prints the first of its arguments (interpreters) that can import atheris.
ATHERIS_PROBE = 'for p; do "$p" -c "import atheris" >/dev/null 2>&1 && { echo "$p"; exit 0; }; done'

# Delta debugging of a Python crash, in-process: argv = [target, input, output, seconds].
# The crash to keep is the exception's type and innermost frame; exit 3 if the input does not
# raise at all.
PY_MINIMIZER = """\
import importlib, os, sys, time, traceback
target, source, output, budget = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
module = importlib.import_module(os.path.splitext(os.path.basename(target))[0])
def outcome(data):
    try:
        module.TestOneInput(data)
    except Exception as exc:
        last = traceback.extract_tb(exc.__traceback__)[-1]
        return (type(exc).__name__, last.filename, last.name, last.lineno)
    return None
with open(source, "rb") as f:
    data = f.read()
goal = outcome(data)
if goal is None:
    sys.exit(3)
end = time.monotonic() + budget
chunk = max(1, len(data) // 2)
while data and time.monotonic() < end:
    start, smaller = 0, False
    while start < len(data) and time.monotonic() < end:
        candidate = data[:start] + data[start + chunk:]
        if outcome(candidate) == goal:
            data, smaller = candidate, True
        else:
            start += chunk
    if not smaller:
        if chunk == 1:
            break
        chunk = max(1, chunk // 2)
with open(output, "wb") as f:
    f.write(data)
"""


@dataclass(frozen=True)
class FuzzTarget:
    """A target as it runs in the sandbox: `argv` is the command before libFuzzer's flags."""

    path: str  # relative to the work dir
    engine: str  # "libfuzzer" | "atheris"
    argv: tuple[str, ...]
    name: str  # of its folder under fuzz/
    minimizer: str | None  # "libfuzzer" | "python" | None (cannot be minimized)
    why_not_minimized: str = ""


async def resolve_target(bench: Workbench, target: str) -> FuzzTarget:
    path = bench.path(target, "fuzz target")
    rel = bench.relative(path)
    name = re.sub(r"[^\w.-]", "_", path.name.removesuffix(".py")) or "target"
    if path.suffix == ".py":
        with bench.open(path) as file:
            source = file.read(4 << 20).decode(errors="replace")
        python = (await bench.toolchain()).python
        if python is None:
            raise ToolError("the sandbox has no python3, which a Python fuzz target needs")
        return python_target(rel, name, source, await atheris_python(bench, python))
    head, _ = bench.read_head(path, 4)
    if head != b"\x7fELF":
        raise ToolError(
            f"{target!r} is neither a program (ELF binary) nor a Python file (.py). fuzz takes "
            "a libFuzzer target, which build(fuzzer=True) makes from a file defining "
            "LLVMFuzzerTestOneInput, or a .py file defining TestOneInput(data: bytes)"
        )
    with bench.open(path) as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
        driver = data.find(LIBFUZZER_MARK) >= 0
        entry = data.find(b"LLVMFuzzerTestOneInput") >= 0
    if not driver:
        why = (
            "it has LLVMFuzzerTestOneInput but not libFuzzer's driver (linked with "
            "-fsanitize=fuzzer-no-link?)"
            if entry
            else "it is a program without libFuzzer"
        )
        raise ToolError(
            f"{target!r} is not a libFuzzer target: {why}. Build the harness (a file defining "
            "int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)) with "
            "build(fuzzer=True), then fuzz the binary it makes"
        )
    bench.executable(target, "fuzz target")
    return FuzzTarget(rel, "libfuzzer", (f"./{rel}",), name, "libfuzzer")


async def atheris_python(bench: Workbench, python: str) -> str:
    """`python` (the sandbox's python3) if it can import atheris, else OpenSage's own
    interpreter if that can in the sandbox, else `python`, whose failure to import it the run
    then reports."""
    candidates = [python] if sys.executable in ("", python) else [python, sys.executable]
    result = await bench.sandbox.exec(
        ["sh", "-c", ATHERIS_PROBE, "sh", *candidates],
        workdir=bench.root,
        timeout_s=PROBE_TIMEOUT_S,
        limits=bench.limits,
    )
    found = result.stdout.split()
    return found[0] if result.exit_code == 0 and found else python


def python_target(rel: str, name: str, source: str, python: str) -> FuzzTarget:
    defines = re.search(r"^def TestOneInput\s*\(", source, re.MULTILINE) is not None
    drives = re.search(r"\batheris\.(Setup|Fuzz)\s*\(", source) is not None
    guarded = (
        re.search(r"""^if\s+__name__\s*==\s*['"]__main__['"]""", source, re.MULTILINE) is not None
    )
    if defines and (not drives or guarded):
        if not re.fullmatch(r"[A-Za-z_]\w*", name):
            raise ToolError(
                f"{rel!r}: a Python target is imported, so its file name must be a "
                "module name (letters, digits, underscores); rename it"
            )
        return FuzzTarget(rel, "atheris", (python, "-c", ATHERIS_DRIVER, rel), name, "python")
    if drives:
        return FuzzTarget(
            rel,
            "atheris",
            (python, rel),
            name,
            None,
            "the script runs atheris itself at import (define TestOneInput and "
            "call atheris only under if __name__ == '__main__' to allow it)",
        )
    raise ToolError(
        f"{rel!r} is not a Python fuzz target: define TestOneInput(data: bytes) at module level "
        "(raise, or let an exception escape, on a bug), or call atheris.Setup(sys.argv, "
        "TestOneInput) and atheris.Fuzz() yourself"
    )


def python_crash(text: str, root: Path) -> Crash | None:
    """An uncaught Python exception as atheris prints it, as a `Crash`: the kind is the
    exception's type, frames innermost first (atheris's driver left out), and the signature is
    computed as for sanitizer reports, over the frames in the work dir when there are any."""
    start = text.find(PY_EXCEPTION)
    if start < 0:
        return None
    lines = text[start + len(PY_EXCEPTION) :].splitlines()
    message = next((line.strip() for line in lines if line.strip()), "Exception")
    kind = message.split(":", 1)[0].strip() or "Exception"
    frames: list[tuple[str, str, int]] = []
    for line in lines:
        match = PY_FRAME.match(line)
        if match:
            frames.append((match["function"].strip(), match["file"], int(match["line"])))
        elif frames and line and not line.startswith(" "):
            break  # the exception line after the traceback
    ordered: list[Frame] = []
    for index, (function, file, number) in enumerate(reversed(frames)):
        path = Path(file)
        shown = (
            str(path.relative_to(root))
            if path.is_absolute() and path.is_relative_to(root)
            else file
        )
        ordered.append(Frame(index, function, shown, number))
    ours = tuple(f for f in ordered if not f.file or not f.file.startswith(("/", "<")))
    frame_tuple = tuple(ordered)
    return Crash(
        kind=kind,
        sanitizer="Python",
        frames=frame_tuple,
        signature=signature(kind, ours or frame_tuple),
        summary=f"SUMMARY: Python: {message}",
    )
