"""What a failed build said: its output cut to the errors that matter (`trim_errors`: the
compiler's, the linker's, CMake's, make's and the shell's, each with its context), or to its end
when no line in it looks like an error (`output_tail`). Paths in the work dir are shown relative
to it, as the model knows them."""

from __future__ import annotations

import re
from pathlib import Path

from opensage.core.tools import truncate

MAX_ERRORS = 10  # error messages shown; the others are counted
ERROR_CONTEXT = 2  # lines after each (the source line and clang's caret)
TAIL_LINES = 40  # of the output, when a failed build printed no error line we know

ERROR_LINE = re.compile(
    r"^(?:\S[^:\n]*:\d+(?::\d+)?: (?:fatal )?error: .*"  # clang, gcc
    r"|.*\bundefined reference to .*|.*\bmultiple definition of .*"  # the linker
    r"|.*\bld(?:\.\w+)?: error: .*|/usr/bin/ld: cannot find .*"
    r"|clang(?:\+\+)?(?:-\d+)?: error: (?!linker command failed).*"  # the driver
    r"|CMake Error.*|.*: line \d+: .*"  # cmake, shell scripts
    r"|make(?:\[\d+\])?: \*\*\* No rule to make target .*)$",
    re.MULTILINE,
)

COMPILER_ERROR = re.compile(r"^\S[^:\n]*:\d+:\d+: (?:fatal )?error: ")
# Lines that end an error's context: another diagnostic, clang's count, make's and cmake's own.
NOT_CONTEXT = re.compile(
    r"^(?:\S[^:\n]*:\d+(?::\d+)?: (?:warning|note|error|fatal error)|"
    r"\d+ (?:errors?|warnings?)( and \d+ \w+)? generated|make|"
    r"In file included from|\[\s*\d+%\]|-- |\s*$)"
)


def trim_errors(output: str, root: Path | None = None, limit: int = MAX_ERRORS) -> str:
    """A build's output cut to what matters: each `error:` line (the compiler's, the
    linker's, CMake's, the shell's) with the lines of context after it, the first `limit` of
    them, then how many more; or the output's end when no line looks like an error."""
    text = output if root is None else output.replace(f"{root}/", "")
    lines = text.splitlines()
    found = [i for i, line in enumerate(lines) if ERROR_LINE.match(line)]
    if not found:
        return f"(no error line found; the output's end:)\n{output_tail(text)}"
    shown = []
    for i in found[:limit]:
        block = [lines[i]]
        # A compiler's diagnostic is followed by the source line and a caret; CMake's and
        # others' by indented lines, if anything.
        source = COMPILER_ERROR.match(lines[i]) is not None
        for line in lines[i + 1 : i + 1 + ERROR_CONTEXT]:
            if (
                NOT_CONTEXT.match(line)
                or ERROR_LINE.match(line)
                or (not source and not line.startswith((" ", "\t")))
            ):
                break
            block.append(line)
        shown.append("\n".join(block))
    more = len(found) - limit
    count = f"{len(found)} error{'s' if len(found) > 1 else ''}"
    tail = f"\n[... and {more} more errors]" if more > 0 else ""
    return f"{count}:\n" + "\n".join(shown) + tail


def output_tail(text: str, root: Path | None = None) -> str:
    """The last lines of a build's output: what a build that ran past its time, or failed
    with no error line we know, said last."""
    if root is not None:
        text = text.replace(f"{root}/", "")
    return truncate("\n".join(text.splitlines()[-TAIL_LINES:]), 6000)
