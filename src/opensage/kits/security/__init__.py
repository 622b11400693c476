"""The security kit (`kits=["security"]`): sanitizer builds, proof-of-concept inputs, fuzzing and
crash triage, every command in the run's sandbox.

This module defines the tools as the model sees them (names, arguments, descriptions: a
contract) and what a run holds for them; each executor is in its own module (build, poc, fuzz,
triage, compare), over a `Workbench` (workbench.py): the work dir, the sandbox, the run's
limits, OpenSage's home (which no tool may read) and the compiler found in the sandbox. A
session holds one workbench, so the toolchain is probed once a run, and the stack signatures
`fuzz` has reported, so that a second call tells new crashes from those found before. An
ensemble member gets its own session on its copy of the work dir.

Each tool has its own time limit, past the longest its executor can take, so that the loop's
tool timeout does not abandon a long build or fuzzing run; each answer is kept under the loop's
cut (`kits.output`) and says how to read the rest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from opensage.core.context import RunContext
from opensage.core.tools import Tool
from opensage.kits.base import Kit
from opensage.kits.output import within
from opensage.kits.security import build, compare, fuzz, poc, triage
from opensage.kits.security.workbench import PROBE_TIMEOUT_S, Workbench

__all__ = ["SecurityKit", "SecurityTools"]

MARGIN_S = 60.0  # past a tool's own longest run (and the toolchain's probe) before it is abandoned
DEFAULT_SANITIZERS = ["address", "undefined"]
TRIAGE_S = triage.MAX_INPUTS * 10.0 / triage.PARALLEL  # every input at run_poc's default timeout
LONGEST_S = {
    "build": build.BUILD_TIMEOUT_S,
    "write_poc": poc.SCRIPT_TIMEOUT_S,
    "run_poc": poc.MAX_RUN_TIMEOUT_S,
    "fuzz": float(fuzz.LONGEST_S),
    "triage": TRIAGE_S,
    "crash_context": triage.CONTEXT_TIMEOUT_S,
    "compare_builds": 10.0,
}

RUN_POC_MORE = "crash_context(binary, poc) shows the stack at the crash with its variables"


class SecurityTools:
    """The kit's tools over one workbench, for one session; each public method is a tool."""

    def __init__(self, bench: Workbench, seen: set[str]):
        self.bench, self.seen = bench, seen

    def tools(self) -> list[Tool]:
        return [
            Tool(fn, timeout_s=LONGEST_S[fn.__name__] + PROBE_TIMEOUT_S + MARGIN_S)
            for fn in (
                self.build,
                self.write_poc,
                self.run_poc,
                self.fuzz,
                self.triage,
                self.crash_context,
                self.compare_builds,
            )
        ]

    @within("fix the first errors and build again, or build a smaller part (path)")
    async def build(
        self,
        command: str | None = None,
        sanitizers: list[str] = DEFAULT_SANITIZERS,  # never changed
        fuzzer: bool = False,
        path: str = ".",
    ) -> str:
        """Build C or C++ code with clang and sanitizers (-g -O1 -fno-omit-frame-pointer), as
        OSS-Fuzz does: CC, CXX, CFLAGS, CXXFLAGS, LIB_FUZZING_ENGINE and OUT (the folder's out/)
        are set. Without a command it builds what the folder holds: build.sh, CMakeLists.txt, a
        Makefile using $(CC)/$(CFLAGS), or lone .c/.cc files (each with main becomes out/NAME).
        Returns the executables made, or the compiler's errors.

        Args:
            command: a shell command that builds, run in the folder, e.g. "make -j4" or
                "$CC $CFLAGS x.c -o $OUT/x"; none: build what the folder holds.
            sanitizers: among address, undefined, memory, leak, thread.
            fuzzer: link fuzz targets (files defining LLVMFuzzerTestOneInput) with libFuzzer,
                for fuzz().
            path: the folder to build, relative to the work directory.
        """
        return await build.build(self.bench, command, list(sanitizers), fuzzer, path)

    @within("print less from the script")
    async def write_poc(self, script: str, output: str = "poc") -> str:
        """Run a Python script you wrote, in the sandbox (no network; only the work directory
        writable), to make a binary input file; returns its size and a hex dump of its head.
        The script gets the output path as sys.argv[1] (and in $POC_PATH).

        Args:
            script: Python 3 source, e.g.
                "import sys; open(sys.argv[1], 'wb').write(b'A' * 64 + b'\\x00\\x01')".
            output: the file to write, relative to the work directory.
        """
        return await poc.write_poc(self.bench, script, output)

    @within(RUN_POC_MORE)
    async def run_poc(
        self, binary: str, poc: str, args: list[str] | None = None, timeout_s: float = 10
    ) -> str:
        """Run a binary on an input in the sandbox and say whether it crashed: the sanitizer's
        kind (heap-buffer-overflow, use-after-free, SEGV, UBSan's kinds...), the access
        (READ/WRITE and size), the top frames as `function file:line` and a stack signature
        (the same for the same bug). A timeout or a plain non-zero exit is not a crash.

        Args:
            binary: the executable, relative to the work directory, e.g. "out/parser".
            poc: the input file, relative to the work directory.
            args: the program's arguments, "{poc}" standing for the input's path; by default
                the path is the only argument (libFuzzer targets take it too); with no
                "{poc}" the input goes to stdin.
            timeout_s: seconds it may run (at most 600).
        """
        return await _run_poc(self.bench, binary, poc, args, timeout_s)

    @within("triage(binary, ['fuzz/<target>/crashes']) lists the crashing inputs by signature")
    async def fuzz(
        self,
        target: str,
        seconds: int = 60,
        seeds: str | list[str] | None = None,
        dictionary: str | None = None,
        jobs: int = 1,
        minimize: bool = True,
        *,
        ctx: RunContext,
    ) -> str:
        """Fuzz a libFuzzer target (built with build(fuzzer=True)) or a Python file defining
        TestOneInput(data: bytes) (with atheris), in the sandbox. Crashing inputs go to
        fuzz/<target>/crashes/, grouped by stack signature, one per signature minimized; the
        corpus (fuzz/<target>/corpus/) is kept for the next call. Returns runs, exec/s,
        coverage and each new crash with its top frame and minimized input.

        Args:
            target: the libFuzzer binary or .py file, relative to the work directory.
            seconds: how long to fuzz (at most 3600).
            seeds: a folder of seed inputs, or a list of files and folders.
            dictionary: a libFuzzer dictionary file (lines like kw="token").
            jobs: fuzzers running in parallel on one corpus (at most the cores).
            minimize: minimize one input per new crash signature.
        """

        def progress(stats: dict[str, Any]) -> None:
            ctx.emit("fuzz_progress", {"target": target, **stats})

        report = await fuzz.run_fuzz(
            self.bench,
            target,
            seconds,
            seeds,
            dictionary,
            jobs,
            minimize,
            progress=progress,
            seen=self.seen,
        )
        return report.text()

    @within("triage fewer inputs at a time (a narrower pattern)")
    async def triage(self, binary: str, crashes: list[str]) -> str:
        """Run a binary on each crashing input and group them by stack signature: one row per
        distinct bug (signature, kind, top frame, inputs), then the inputs that did not crash.

        Args:
            binary: the sanitizer build, relative to the work directory.
            crashes: files, folders or glob patterns, e.g. ["fuzz/t/crashes/crash-*"].
        """
        return await triage.triage(self.bench, binary, crashes)

    @within("run_poc(binary, poc) gives the sanitizer's report")
    async def crash_context(self, binary: str, poc: str) -> str:
        """Run a binary on a crashing input under gdb (batch mode) and show the stack at the
        crash: each frame with its arguments, and the locals of the top frames in the
        project's code.

        Args:
            binary: the sanitizer build, relative to the work directory.
            poc: the crashing input, relative to the work directory.
        """
        return await triage.crash_context(self.bench, binary, poc)

    @within("run_poc(binary, poc) on each build gives its whole report")
    async def compare_builds(self, poc: str, vulnerable: str, fixed: str) -> str:
        """Judge a proof of concept: whether the input crashes the vulnerable build and not
        the fixed one (both built with the same flags; a timeout counts as no crash).

        Args:
            poc: the input file, relative to the work directory.
            vulnerable: the binary built from the vulnerable code.
            fixed: the binary built the same way from the fixed code.
        """
        return await compare.compare_builds(self.bench, poc, vulnerable, fixed)


_run_poc = poc.run_poc  # the parameter named poc hides the module in run_poc's body


class SecurityKit(Kit):
    """The security kit: sanitizer builds, proof-of-concept inputs, fuzzing, crash triage and
    the verdict on a PoC, in the sandbox."""

    name = "security"

    @asynccontextmanager
    async def session(self, ctx: RunContext) -> AsyncIterator[list[Tool]]:
        bench = Workbench(
            ctx.workdir, ctx.sandbox(), ctx.config.sandbox_limits, hidden=(ctx.config.home,)
        )
        yield SecurityTools(bench, seen=set()).tools()
