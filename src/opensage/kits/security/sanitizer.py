"""Reading sanitizer reports: a pure function from a program's stderr to a typed `Crash`.

    crash = parse_report(stderr, root=workdir)   # None when stderr holds no report
    crash.kind, crash.access, crash.frames[0], crash.signature

Knows the reports of AddressSanitizer (with LeakSanitizer), UndefinedBehaviorSanitizer,
MemorySanitizer, ThreadSanitizer and libFuzzer's own (deadly signal, out-of-memory, timeout),
and a death by signal with no report (`signal_crash`). The stack signature hashes the kind and
the top frames in the project's own code (not libc, not a sanitizer's runtime, not libFuzzer),
so that two inputs reaching the same bug share it and a different bug gets another: the
fuzzer, triage and the benchmark harness all group crashes by it.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
from dataclasses import dataclass
from pathlib import Path

SIGNATURE_FRAMES = 3  # project frames hashed into a signature
SHOWN_FRAMES = 8  # frames a crash keeps from its stack

# "    #3 0x4f8a1c in parse_header /src/lib/parse.c:120:7" (ASan, UBSan, MSan, LSan), or
# "    #0 worker /src/x.c:3:21 (prog+0xd00ff)" (TSan), or "#2 0x7f.. in fread (/lib/x.so+0x1c)".
FRAME = re.compile(r"^\s*#(?P<index>\d+)\s+(?:0x[0-9a-fA-F]+\s+)?(?:in\s+)?(?P<rest>.*?)\s*$")
LOCATION = re.compile(
    r"^(?P<function>.*?)\s+(?P<file>[^\s()]+?):(?P<line>\d+)(?::\d+)?"
    r"(?:\s+\(.*\))?$"
)
FILE_ONLY = re.compile(r"^(?P<function>.*?)\s+(?P<file>[^\s()]*/[^\s()]+)$")  # line 0: none
MODULE = re.compile(r"^(?P<function>.*?)\s*\((?P<module>[^()\s]+?)\+0x[0-9a-fA-F]+\)")
ERROR = re.compile(
    r"^(?:==\d+==\s*)?(?:ERROR|WARNING): (?P<tool>AddressSanitizer|LeakSanitizer|"
    r"MemorySanitizer|ThreadSanitizer|UndefinedBehaviorSanitizer|libFuzzer|"
    r"HWAddressSanitizer):\s*(?P<what>.*)$",
    re.MULTILINE,
)
RSS_LIMIT = re.compile(
    r"^==\d+==(?P<tool>\w+Sanitizer): hard rss limit exhausted .*$", re.MULTILINE
)
UBSAN = re.compile(
    r"^(?P<where>\S+?):(?P<line>\d+):(?:\d+:)? runtime error: (?P<message>.*)$", re.MULTILINE
)
SUMMARY = re.compile(r"^SUMMARY: (?P<tool>\w+): (?P<text>.*)$", re.MULTILINE)
ACCESS = re.compile(
    r"^\s*(?P<op>READ|WRITE|Read|Write|Atomic read|Atomic write) of size "
    r"(?P<size>\d+)",
    re.MULTILINE,
)
SIGNAL_ACCESS = re.compile(r"The signal is caused by a (?P<op>READ|WRITE|UNKNOWN) memory access")
DESCRIPTION = re.compile(
    r"^(?:0x[0-9a-f]+ is located .*|Address 0x[0-9a-f]+ is .*|"
    r"\s*Location is .*|.*<== Memory access .*)$",
    re.MULTILINE,
)
HISTORY = re.compile(
    r"^\s*(?P<what>(?:previously )?allocated by thread \w+|freed by thread \w+|"
    r"Uninitialized value was created by [\w ]+?|"
    r"(?:Direct|Indirect) leak of \d+ byte\(s\)[^:]*?) ?(?:here|from)?:?$",
    re.MULTILINE,
)

# What UBSan says, for reports printed without report_error_type=1 (their summary only says
# "undefined-behavior"): the first pattern found names the kind, as report_error_type would.
UBSAN_KINDS = (
    ("signed integer overflow", "signed-integer-overflow"),
    ("unsigned integer overflow", "unsigned-integer-overflow"),
    ("negation of", "signed-integer-overflow"),
    ("division by zero", "integer-divide-by-zero"),
    ("shift exponent", "invalid-shift-exponent"),
    ("left shift of", "invalid-shift-base"),
    ("null pointer", "null-pointer-use"),
    ("applying non-zero offset", "nullptr-with-nonzero-offset"),
    ("applying zero offset to null", "nullptr-with-offset"),
    ("pointer index expression", "pointer-overflow"),
    ("addition of unsigned offset", "pointer-overflow"),
    ("subtraction of unsigned offset", "pointer-overflow"),
    ("misaligned address", "misaligned-pointer-use"),
    ("out of bounds for type", "out-of-bounds-index"),
    ("load of value", "invalid-bool-load"),  # also enums: refined below
    ("variable length array bound", "non-positive-vla-index"),
    ("execution reached an unreachable", "unreachable-call"),
    ("execution reached the end of a value-returning", "missing-return"),
    ("is outside the range of representable values", "float-cast-overflow"),
    ("call to function", "function-type-mismatch"),
    ("address with insufficient space", "insufficient-object-size"),
    ("null pointer returned from function", "invalid-null-return"),
    ("null pointer passed as argument", "invalid-null-argument"),
    ("downcast of address", "dynamic-type-mismatch"),
    ("member call on address", "dynamic-type-mismatch"),
    ("implicit conversion", "implicit-conversion"),
    ("passing zero to", "invalid-builtin-use"),
)

# Frames that are not the project's code: the C library and its start-up (glibc's own paths:
# `./libio/...`, `libio/./libio/...`, `stdlib/./stdlib/exit.c`), the sanitizers' runtimes and
# interceptors, libFuzzer, the C++ standard library and system headers, and Python's standard
# library and installed packages (a venv's too; `<frozen importlib._bootstrap>`).
RUNTIME_FILES = re.compile(
    r"/sysdeps/|^csu/|^\./[a-z_]+/|^[a-z_]+/\./[a-z_]+/|^/usr/|^/lib/|"
    r"(^|/)(compiler-rt|llvm-project|sanitizer_common|libcxx|libcxxabi|libc\+\+|libstdc\+\+-v3)/|"
    r"(^|/)lib/fuzzer/|(^|/)(site|dist)-packages/|(^|/)lib/python\d[\d.]*/|^<frozen "
)
RUNTIME_FUNCTIONS = re.compile(
    r"^(__asan|__ubsan|__msan|__tsan|__lsan|__hwasan|__sanitizer|__interceptor_|"
    r"___interceptor_|__interception|__sanitizer_|__libc_|_start$|fuzzer::|"
    r"LLVMFuzzerRunDriver|__cxa_|__gxx_|std::__1::|abort$|raise$|__GI_)"
)
# A death by one of these signals is a crash; any other (SIGKILL, SIGTERM, SIGXCPU) is not.
CRASH_SIGNALS = frozenset(
    {
        signal.SIGSEGV,
        signal.SIGBUS,
        signal.SIGILL,
        signal.SIGFPE,
        signal.SIGABRT,
        signal.SIGTRAP,
        signal.SIGSYS,
    }
)


@dataclass(frozen=True, slots=True)
class Frame:
    """One stack frame: `function file:line`, or `function (module)` without debug info."""

    index: int
    function: str
    file: str | None = None  # relative to the work dir when inside it
    line: int | None = None
    module: str | None = None  # the binary or library, when the frame has no file

    @property
    def project(self) -> bool:
        """Whether the frame is in the project's own code rather than a runtime's."""
        return (
            self.file is not None
            and not RUNTIME_FILES.search(self.file)
            and not RUNTIME_FUNCTIONS.match(self.function)
        )

    def __str__(self) -> str:
        if self.file is not None:
            return f"{self.function} {self.file}" + (f":{self.line}" if self.line else "")
        return f"{self.function} ({self.module})" if self.module else self.function


@dataclass(frozen=True, slots=True)
class Crash:
    """A crash as a sanitizer (or a signal) reported it."""

    kind: str  # heap-buffer-overflow, use-after-free, SEGV, signed-integer-overflow, ...
    sanitizer: str  # AddressSanitizer, UndefinedBehaviorSanitizer, ..., or "signal"
    frames: tuple[Frame, ...]  # the crashing stack, innermost first
    signature: str  # a short hash of the kind and the top project frames
    summary: str  # the report's SUMMARY line, or a line made up like one
    access: str | None = None  # "READ of size 4", "WRITE of size 8", "READ"
    description: str | None = None  # where the address lies, what the value was...

    @property
    def project_frames(self) -> tuple[Frame, ...]:
        return tuple(f for f in self.frames if f.project)

    @property
    def top_frame(self) -> Frame | None:
        """The first frame in project code (else the first frame): where to look."""
        return next(iter(self.project_frames), self.frames[0] if self.frames else None)

    @property
    def timeout(self) -> bool:
        """libFuzzer's own timeout report: a hang, not a crash."""
        return self.kind == "timeout"

    def describe(self, frames: int = SHOWN_FRAMES) -> str:
        """The crash as the model reads it."""
        head = f"{self.kind} ({self.sanitizer})"
        if self.access:
            head += f", {self.access}"
        lines = [head]
        if self.description:
            lines.append(self.description)
        if self.frames:
            lines.append("top frames:")
            lines += [
                f"  #{f.index} {f}{'' if f.project else '  [runtime]'}"
                for f in self.frames[:frames]
            ]
        lines += [f"signature: {self.signature}", self.summary]
        return "\n".join(lines)


def parse_report(text: str, root: Path | str | None = None) -> Crash | None:
    """The first sanitizer report in `text` (a program's stderr), or None when there is none.
    File paths inside `root` (the work dir) are made relative to it."""
    base = _root(root)
    rss = RSS_LIMIT.search(text)
    if rss:  # a line, then the memory map: no stack, no summary
        return Crash(
            kind="out-of-memory",
            sanitizer=rss["tool"],
            frames=(),
            signature=signature("out-of-memory", ()),
            summary=f"SUMMARY: {rss['tool']}: out-of-memory",
            description=rss[0].strip(),
        )
    error = ERROR.search(text)
    ubsan = UBSAN.search(text)
    if ubsan and (error is None or ubsan.start() < error.start()):
        return _ubsan(text, ubsan, base)
    if error is None:
        return None
    tool, what = error["tool"], error["what"].strip()
    rest = text[error.end() :]
    summary = _summary(rest)
    frames = _first_stack(rest, base)
    if tool == "libFuzzer":
        kind = _libfuzzer_kind(what)
    elif tool == "LeakSanitizer" or "detected memory leaks" in what:
        tool, kind = "LeakSanitizer", "memory-leak"
    elif tool == "ThreadSanitizer":  # "data race (pid=12)": no summary names it in one word
        kind = re.sub(r"\s*\(.*$", "", what).replace(" ", "-")
    else:
        kind = _kind(what, summary)
    return Crash(
        kind=kind,
        sanitizer=tool,
        frames=frames,
        signature=signature(kind, frames),
        summary=_relative_text(summary, base) if summary else f"SUMMARY: {tool}: {kind}",
        access=_access(rest[:2000]),
        description=_description(rest, base),
    )


def _description(text: str, root: Path | None) -> str | None:
    """What the report says besides the stack: where the address lies (which variable
    overflowed), and the first project frame of where the memory was allocated and freed."""
    lines = [_relative_text(m[0].strip(), root) for m in DESCRIPTION.finditer(text)][:2]
    for header in HISTORY.finditer(text):
        frames = _first_stack(text[header.end() :], root)
        top = next((f for f in frames if f.project), frames[0] if frames else None)
        if top is not None:
            lines.append(f"{header['what']}: {top}")
    return "\n".join(lines) or None


def signal_crash(signum: int, text: str = "", root: Path | str | None = None) -> Crash:
    """A death by a crash signal with no sanitizer report (a binary built without one, a
    sanitizer told not to handle it). Frames come from whatever stack `text` holds."""
    name = signal_name(signum)
    frames = _first_stack(text, _root(root))
    return Crash(
        kind=f"signal {name}",
        sanitizer="signal",
        frames=frames,
        signature=signature(f"signal {name}", frames),
        summary=f"SUMMARY: the program died of {name} with no sanitizer report",
    )


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def signature(kind: str, frames: tuple[Frame, ...]) -> str:
    """12 hex digits of a hash of the kind and the top project frames (function, file and
    line), or of the top frames when none is in project code."""
    chosen = [f for f in frames if f.project][:SIGNATURE_FRAMES] or list(frames[:SIGNATURE_FRAMES])
    key = "|".join(
        [
            kind,
            *(
                f"{f.function} {os.path.basename(f.file or f.module or '')}:{f.line or ''}"
                for f in chosen
            ),
        ]
    )
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def parse_frame(line: str, root: Path | None = None) -> Frame | None:
    """One `#N ...` line of a sanitizer's stack, or None if `line` is not one."""
    match = FRAME.match(line)
    if match is None:
        return None
    rest, index = match["rest"], int(match["index"])
    rest = re.sub(r"\s*\(BuildId: [0-9a-f]+\)$", "", rest)
    located = LOCATION.match(rest)
    if located and located["function"]:
        return Frame(
            index,
            _function(located["function"]),
            _relative(located["file"], root),
            int(located["line"]),
        )
    file_only = FILE_ONLY.match(rest)
    if file_only and file_only["function"]:
        return Frame(index, _function(file_only["function"]), _relative(file_only["file"], root))
    module = MODULE.match(rest)
    if module:
        return Frame(
            index, _function(module["function"]) or "??", module=os.path.basename(module["module"])
        )
    return Frame(index, _function(rest) or "??")


def _function(text: str) -> str:
    text = text.strip()
    return "" if text in ("<null>", "??") else re.sub(r"\+0x[0-9a-f]+$", "", text)


def _first_stack(text: str, root: Path | None) -> tuple[Frame, ...]:
    """The frames of the first stack in `text`: `#0` up to the first line that is not one."""
    frames: list[Frame] = []
    for line in text.splitlines():
        frame = parse_frame(line, root) if line.lstrip().startswith("#") else None
        if frame is None:
            if frames:
                break
            continue
        if frame.index == 0 and frames:
            break
        frames.append(frame)
    return tuple(frames)


def _ubsan(text: str, match: re.Match[str], root: Path | None) -> Crash:
    rest = text[match.end() :]
    summary = _summary(rest)
    kind = None
    if summary:
        named = re.match(
            r"UndefinedBehaviorSanitizer: ([a-z-]+)", summary.removeprefix("SUMMARY: ")
        )
        if named and named[1] != "undefined-behavior":
            kind = named[1]
    message = match["message"]
    kind = kind or _ubsan_kind(message)
    frames = _first_stack(rest, root)
    if not frames:  # printed without print_stacktrace=1: the location is all there is
        frames = (Frame(0, "?", _relative(match["where"], root), int(match["line"])),)
    where = _relative(match["where"], root)
    return Crash(
        kind=kind,
        sanitizer="UndefinedBehaviorSanitizer",
        frames=frames,
        signature=signature(kind, frames),
        summary=f"SUMMARY: UndefinedBehaviorSanitizer: {kind} {where}:{match['line']}",
        description=f"runtime error: {message}",
    )


def _ubsan_kind(message: str) -> str:
    for words, kind in UBSAN_KINDS:
        if words in message:
            if kind == "invalid-bool-load" and "bool" not in message:
                return "invalid-enum-load"
            return kind
    return "undefined-behavior"


def _kind(what: str, summary: str | None) -> str:
    """The kind from the summary (`SUMMARY: AddressSanitizer: double-free ...`), else from the
    error line (`heap-buffer-overflow on address ...`)."""
    if summary:
        named = re.match(r"SUMMARY: \w+: ([A-Za-z][\w-]*)", summary)
        if named and not named[1][0].isdigit():
            return named[1]
    if what.startswith("hard rss limit exhausted") or "out of memory" in what:
        return "out-of-memory"
    if what.startswith("requested allocation size"):
        return "allocation-size-too-big"
    first = what.split()[0] if what.split() else "unknown-crash"
    return "unknown-crash" if first == "attempting" else first.rstrip(":")


def _libfuzzer_kind(what: str) -> str:
    for words in (
        "deadly signal",
        "out-of-memory",
        "timeout",
        "fuzz target exited",
        "fuzz target overwrites its const input",
        "leak",
    ):
        if what.startswith(words):
            return words.replace(" ", "-") if words != "deadly signal" else words
    return what.split(" (")[0] or "libFuzzer"


def _access(text: str) -> str | None:
    match = ACCESS.search(text)
    if match:
        return f"{match['op'].upper()} of size {match['size']}"
    signal_access = SIGNAL_ACCESS.search(text)
    return signal_access["op"] if signal_access else None


def _summary(text: str) -> str | None:
    match = SUMMARY.search(text)
    return re.sub(r"\s*\(BuildId: [0-9a-f]+\)", "", match[0]).strip() if match else None


def _root(root: Path | str | None) -> Path | None:
    return None if root is None else Path(os.path.abspath(root))


def _relative(path: str, root: Path | None) -> str:
    if root is None or not path.startswith("/"):
        return path
    normal = Path(os.path.normpath(path))
    return str(normal.relative_to(root)) if normal.is_relative_to(root) else path


def _relative_text(text: str, root: Path | None) -> str:
    return text if root is None else text.replace(f"{root}/", "")
