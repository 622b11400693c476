"""`write_poc` and `run_poc`: make a proof-of-concept input with a script the model wrote, and
run a binary on it, both in the sandbox.

The script never runs on the host (the reference system runs it with a plain subprocess; we
do not): it runs in the sandbox with python3, its output path as `sys.argv[1]` and in
`$POC_PATH`, and only the work dir writable. A binary runs on the input with the sanitizers'
options set for one parseable report (`Workbench.sanitizer_env`), and what happened is read
back as an `Outcome`: a crash (a sanitizer's report, or a death by a crash signal) with its
kind, access, frames and signature; or a timeout, or an exit code, which are never crashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from opensage.core.tools import ToolError, truncate
from opensage.kits.security.sanitizer import CRASH_SIGNALS, Crash, parse_report, signal_crash
from opensage.kits.security.workbench import Workbench
from opensage.kits.shell import output_sections
from opensage.sandbox.base import ExecResult

SCRIPT_TIMEOUT_S = 60.0
MAX_RUN_TIMEOUT_S = 600.0
PREVIEW_BYTES = 64
MAX_STDIN_BYTES = 64 << 20  # an input given on stdin is held in memory
OUTPUT_CHARS = 1500  # of a program's stdout and stderr, when no crash explains its end
# The binary runs through sh to turn core dumps off (a crash must not leave a core in the work
# dir); exec keeps its exit status, 128 + N when signal N killed it.
NO_CORE = ["/bin/sh", "-c", 'ulimit -c 0 2>/dev/null; exec "$@"', "sh"]
WRITE = 'rm -f -- "$1" && mkdir -p -- "$(dirname -- "$1")" && exec python3 - "$1"'


@dataclass(frozen=True, slots=True)
class Outcome:
    """What running a binary on an input did."""

    crashed: bool
    crash: Crash | None
    exit_code: int
    timed_out: bool
    duration_s: float
    limit: str | None = None  # a sandbox limit that stopped it (cpu, file_size, memory)
    stdout: str = ""
    stderr: str = ""

    @property
    def status(self) -> str:
        """One phrase: what happened."""
        if self.crashed and self.crash is not None:
            return f"crashed: {self.crash.kind}"
        if self.timed_out:
            return "timed out"
        if self.limit:
            return f"stopped by the {self.limit} limit"
        return f"exit code {self.exit_code}"

    def describe(self, timeout_s: float) -> str:
        """The outcome as the model reads it."""
        if self.crashed and self.crash is not None:
            return f"CRASHED ({self.duration_s:.2f} s): {self.crash.describe()}"
        if self.timed_out:
            head = (
                f"no crash: it timed out after {timeout_s:g} s and was killed (a hang, not a crash)"
            )
        elif self.limit:
            head = (
                f"no crash: the sandbox's {self.limit} limit stopped it after "
                f"{self.duration_s:.2f} s (exit code {self.exit_code})"
            )
        elif self.exit_code == 0:
            head = f"no crash: it exited normally (exit code 0) in {self.duration_s:.2f} s"
        else:
            head = (
                f"no crash: a plain non-zero exit (exit code {self.exit_code}), no sanitizer "
                f"report, in {self.duration_s:.2f} s"
            )
        return "\n".join([head, *output_sections(self.stdout, self.stderr, OUTPUT_CHARS)])


def outcome(result: ExecResult, root: Path) -> Outcome:
    """Read a finished run: a sanitizer's report first, then the end it came to."""
    crash = parse_report(result.stderr, root)
    timed_out = result.timed_out or (crash is not None and crash.timeout)
    if crash is not None and crash.timeout:
        crash = None
    signum = result.exit_code - 128
    if crash is None and not timed_out and result.limit is None and signum in CRASH_SIGNALS:
        crash = signal_crash(signum, result.stderr, root)
    return Outcome(
        crashed=crash is not None and not result.timed_out,
        crash=crash,
        exit_code=result.exit_code,
        timed_out=timed_out,
        duration_s=result.duration_s,
        limit=result.limit,
        stdout=result.stdout,
        stderr=result.stderr,
    )


async def execute(
    bench: Workbench,
    binary: str,
    poc: str,
    args: list[str] | None = None,
    timeout_s: float = 10.0,
    *,
    leaks: bool = True,
) -> Outcome:
    """Run `binary` on the input `poc` in the sandbox and read what happened."""
    if not 0 < timeout_s <= MAX_RUN_TIMEOUT_S:
        raise ToolError(f"timeout_s must be between 0 and {MAX_RUN_TIMEOUT_S:g} seconds")
    program = bench.executable(binary)
    cmd, stdin = command(bench, program, poc, args)
    env = bench.sanitizer_env(await bench.toolchain(), leaks=leaks)
    result = await bench.sandbox.exec(
        cmd,
        workdir=bench.root,
        env=env,
        timeout_s=timeout_s,
        limits=bench.sanitized_limits(timeout_s),
        stdin=stdin,
    )
    return outcome(result, bench.root)


def command(
    bench: Workbench, program: Path, poc: str, args: list[str] | None
) -> tuple[list[str], bytes | None]:
    """The command that runs `program` on the input, and what goes to its stdin (see
    `arguments`)."""
    argv, stdin = arguments(bench, poc, args)
    if stdin is None:
        return [*NO_CORE, str(program), *argv], None
    data, size = bench.read_head(stdin, MAX_STDIN_BYTES)
    if size > MAX_STDIN_BYTES:
        raise ToolError(
            f"the input is {size} bytes, too large to give on stdin (at most "
            f"{MAX_STDIN_BYTES >> 20} MB); pass its path with {{poc}} in args"
        )
    return [*NO_CORE, str(program), *argv], data


def arguments(bench: Workbench, poc: str, args: list[str] | None) -> tuple[list[str], Path | None]:
    """The program's arguments, and the input to give on its stdin if any: the input's path
    replaces `{poc}` in `args` (by default it is the only argument); when no argument names
    `{poc}`, the input goes to stdin."""
    path = input_path(bench, poc)
    if args is None:
        return [str(path)], None
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise ToolError('args must be a list of strings, e.g. ["-d", "{poc}"]')
    if any("{poc}" in a for a in args):
        return [a.replace("{poc}", str(path)) for a in args], None
    return list(args), path


def input_path(bench: Workbench, poc: str) -> Path:
    path = bench.path(poc, "input")
    if not path.is_file():
        raise ToolError(
            f"the input {poc!r} is not a file; give the file write_poc made, or "
            "a crashing input the fuzzer saved"
        )
    return path


async def run_poc(
    bench: Workbench, binary: str, poc: str, args: list[str] | None = None, timeout_s: float = 10.0
) -> str:
    """Run a binary on an input file in the sandbox, with the sanitizers set to report, and
    say whether it crashed: the kind (heap-buffer-overflow, use-after-free, SEGV, UBSan's
    kinds...), the access (READ/WRITE and size), the top frames as `function file:line`, and a
    stack signature (a hash of the top frames in the project's code, the same for the same
    bug). A timeout and a plain non-zero exit are reported as such, never as a crash.

    Args:
        binary: the executable, relative to the work directory (e.g. "out/fuzzer").
        poc: the input file, relative to the work directory.
        args: the program's arguments, where "{poc}" stands for the input's path (by default
            the path is the only argument, which libFuzzer targets also accept); if no
            argument names {poc}, the input is given on stdin.
        timeout_s: how long it may run, in seconds.
    """
    result = await execute(bench, binary, poc, args, timeout_s)
    return result.describe(timeout_s)


async def write_poc(bench: Workbench, script: str, output: str = "poc") -> str:
    """Run a Python script you wrote, in the sandbox, to make a binary input file (a proof of
    concept); returns the file's size and a hex dump of its first 64 bytes. The script gets
    the output path as sys.argv[1] and in the POC_PATH environment variable (or it may write
    the file `output` itself: it runs in the work directory). It runs with no network and can
    write only in the work directory.

    Args:
        script: Python 3 source that writes the input, e.g.
            "import sys; open(sys.argv[1], 'wb').write(b'A' * 64 + b'\\x00\\x01')".
        output: where the input goes, relative to the work directory.
    """
    target = bench.path(output, "output file", exists=False)
    if target.is_dir():
        raise ToolError(f'the output {output!r} is a folder; name a file (e.g. "poc")')
    if not (await bench.toolchain()).python:
        raise ToolError("python3 is not available in the sandbox to run the script")
    result = await bench.sandbox.exec(
        ["/bin/sh", "-c", WRITE, "sh", str(target)],
        workdir=bench.root,
        env={"POC_PATH": str(target)},
        timeout_s=SCRIPT_TIMEOUT_S,
        limits=bench.limits,
        stdin=script.encode(),
    )
    shown = bench.relative(target)
    if result.timed_out:
        raise ToolError(f"the script ran past {SCRIPT_TIMEOUT_S:g} s and was stopped")
    if result.exit_code != 0:
        limit = f" (stopped by the sandbox's {result.limit} limit)" if result.limit else ""
        raise ToolError(
            f"the script failed with exit code {result.exit_code}{limit}:\n"
            f"{truncate(result.stderr.strip() or result.stdout.strip(), 4000)}"
        )
    if not target.is_file():
        raise ToolError(
            f"the script ran but wrote no file at {shown!r}: write the bytes to "
            "sys.argv[1], e.g. open(sys.argv[1], 'wb').write(data)"
        )
    head, size = bench.read_head(target, PREVIEW_BYTES)
    parts = [f"wrote {shown}: {size} bytes", hexdump(head)]
    if size > PREVIEW_BYTES:
        parts.append(f"[... {size - PREVIEW_BYTES} more bytes]")
    if result.stdout.strip():
        parts.append(f"--- the script's output ---\n{truncate(result.stdout.strip(), 2000)}")
    return "\n".join(parts)


def hexdump(data: bytes, width: int = 16) -> str:
    """`xxd`'s layout: offset, bytes in pairs, and the printable characters."""
    lines = []
    for at in range(0, len(data), width):
        row = data[at : at + width]
        pairs = " ".join(row[i : i + 2].hex() for i in range(0, len(row), 2))
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in row)
        lines.append(f"{at:08x}: {pairs:<{width * 5 // 2 - 1}}  {text}")
    return "\n".join(lines) or "(empty file)"
