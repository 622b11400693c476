"""Where the security kit's commands run and with what: the work dir, the sandbox and its
limits (`Workbench`), the compiler found in the sandbox (`Toolchain`), and the environment and
limits that sanitized binaries run with.

The compiler is found inside the sandbox, not on the host, since that is where it runs (a
container image may hold another one): the `CC`/`CXX` of OpenSage's own environment when set,
else the newest `clang-N` (or `clang`) on the sandbox's PATH. The probe runs once per
workbench.

ASan reserves terabytes of address space for its shadow memory, so an address-space limit
(RLIMIT_AS, the bwrap and local backends' `memory_mb`) makes every sanitized binary fail at
start. Sanitized commands therefore run without it, and memory is bounded by the sanitizers'
own options instead (`hard_rss_limit_mb`, `max_allocation_size_mb`); the container backend's memory
limit is a cgroup's, on resident memory, and is kept. The CPU, process, file-size and open-file
limits, the wall timeout and the absence of network all stay.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO

from opensage.core.tools import ToolError
from opensage.kits.files import open_regular, resolve_inside
from opensage.sandbox.base import Sandbox, SandboxLimits

SANITIZERS = ("address", "undefined", "memory", "leak", "thread")
# Pairs clang refuses to combine (its driver's incompatible groups).
INCOMPATIBLE = (
    ("address", "memory"),
    ("address", "thread"),
    ("memory", "thread"),
    ("leak", "memory"),
    ("leak", "thread"),
)
# Each sanitizer's runtime library, as clang's runtime folder names it (libclang_rt.NAME...).
RUNTIMES = {
    "address": "asan",
    "undefined": "ubsan_standalone",
    "memory": "msan",
    "thread": "tsan",
    "leak": "lsan",
    "fuzzer": "fuzzer",
}
# Folders never holding a build's binaries, and possibly huge: CMake's scratch, fuzzing corpora.
NO_BINARIES = frozenset({"CMakeFiles", "corpus", "crashes"})
DEFAULT_RSS_MB = 4096  # when the limits set no memory: what a sanitized process may hold
PROBE_TIMEOUT_S = 60.0
INSTALL_HINT = (
    "install clang with its sanitizer runtimes and libFuzzer (Debian: apt-get "
    "install clang-14 libfuzzer-14-dev llvm-14; scripts/setup.sh does it as root), "
    "and for the container backend rebuild its image with "
    "scripts/build-sandbox-image.sh; or set CC and CXX to a compiler in the sandbox"
)

# Run in the sandbox: prints what `Toolchain` holds, one `key=value` a line.
PROBE = r"""
cc=""; cxx=""
if [ -n "${WANTED_CC:-}" ]; then
    cc=$(command -v "$WANTED_CC" || true)
    cxx=$(command -v "${WANTED_CXX:-clang++}" || true)
else
    best=-1
    for c in $(IFS=:; for d in $PATH; do ls -d "$d"/clang "$d"/clang-[0-9]* 2>/dev/null; done); do
        case "${c##*/}" in clang|clang-[0-9]|clang-[0-9][0-9]) ;; *) continue ;; esac
        v=$("$c" -dumpversion 2>/dev/null | cut -d. -f1)
        case "$v" in ''|*[!0-9]*) continue ;; esac
        if [ "$v" -gt "$best" ]; then
            best=$v; cc=$c; cxx=$(dirname "$c")/$(basename "$c" | sed 's/^clang/clang++/')
        fi
    done
    [ -n "$cc" ] && [ ! -x "$cxx" ] && cxx=""
fi
echo "cc=$cc"; echo "cxx=$cxx"
if [ -n "$cc" ]; then
    echo "version=$("$cc" -dumpversion 2>/dev/null)"
    rt=$("$cc" -print-runtime-dir 2>/dev/null)
    for lib in asan ubsan_standalone msan tsan lsan fuzzer; do
        ls "$rt"/libclang_rt.$lib[-.]* >/dev/null 2>&1 && echo "runtime=$lib"
    done
    sym=$("$cc" -print-prog-name=llvm-symbolizer 2>/dev/null)
    sym=$(command -v "$sym" 2>/dev/null || true)
fi
echo "symbolizer=${sym:-$(command -v llvm-symbolizer || true)}"
echo "gdb=$(command -v gdb || true)"
echo "python=$(command -v python3 || true)"
"""


@dataclass(frozen=True, slots=True)
class Toolchain:
    """What the sandbox has to build and debug with (paths as seen inside it)."""

    cc: str | None
    cxx: str | None
    version: str = ""
    runtimes: frozenset[str] = frozenset()  # asan, ubsan_standalone, msan, tsan, lsan, fuzzer
    symbolizer: str | None = None
    gdb: str | None = None
    python: str | None = None

    @property
    def name(self) -> str:
        return f"{Path(self.cc).name} {self.version}".strip() if self.cc else "no compiler"

    def require_compiler(self) -> tuple[str, str]:
        if not self.cc:
            raise ToolError(f"no C compiler was found in the sandbox: {INSTALL_HINT}")
        if not self.cxx:
            raise ToolError(
                f"{self.cc} was found in the sandbox but no C++ compiler beside it "
                f"(clang++): {INSTALL_HINT}"
            )
        return self.cc, self.cxx

    def missing(self, wanted: list[str]) -> list[str]:
        """Of `wanted` (sanitizer names, "fuzzer"), those whose runtime the compiler lacks. A
        compiler that is not clang has no runtime folder to look in: nothing is reported."""
        if not self.runtimes:
            return []
        return [w for w in wanted if RUNTIMES[w] not in self.runtimes]


@dataclass
class Workbench:
    """The work dir (`root`), the sandbox every command runs in, the run's limits, and the
    paths no tool may read (OpenSage's home). Holds the toolchain once probed."""

    root: Path
    sandbox: Sandbox
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    hidden: tuple[Path, ...] = ()
    compiler: tuple[str, str] | None = None  # CC and CXX to use; default: the environment's
    _toolchain: Toolchain | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.root = Path(os.path.abspath(self.root)).resolve()
        self.hidden = tuple(Path(os.path.abspath(h)).resolve() for h in self.hidden)
        if self.compiler is None and os.environ.get("CC"):
            self.compiler = (os.environ["CC"], os.environ.get("CXX", "clang++"))

    # --- paths --------------------------------------------------------------------------------

    def path(self, path: str, what: str, *, exists: bool = True) -> Path:
        """`path` (relative to the work dir, or absolute inside it) resolved, symlinks
        included, by the files kit's `resolve_inside` (the one path check of every kit);
        refused when it leads outside the work dir or into a hidden path."""
        target = self.root
        for home in self.hidden or (None,):
            try:
                target = resolve_inside(self.root, path, home)
            except ToolError as exc:
                raise ToolError(f"the {what} {exc}") from None
        if exists and not target.exists():
            raise ToolError(f"the {what} {path!r} does not exist in the work directory")
        return target

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root)) if path.is_relative_to(self.root) else str(path)

    def executable(self, path: str, what: str = "binary") -> Path:
        """An executable regular file of the work dir, or an error naming those there are."""
        target = self.path(path, what, exists=False)
        mode = target.stat().st_mode if target.exists() else 0
        if stat.S_ISREG(mode) and mode & 0o111:
            return target
        known = ", ".join(executables(self.root, self.hidden)[:20]) or "none"
        problem = (
            "is not executable"
            if stat.S_ISREG(mode)
            else ("is not a file" if target.exists() else "does not exist")
        )
        raise ToolError(
            f"the {what} {path!r} {problem}. Executables in the work directory: "
            f"{known}. build() makes them (under out/ for lone files)"
        )

    def open(self, target: Path) -> BinaryIO:
        """A regular file of the work dir (a path `path` checked), opened for reading without
        following symlinks (the files kit's rule)."""
        fd = open_regular(self.root, target, os.O_RDONLY | os.O_NONBLOCK, self.relative(target))
        return os.fdopen(fd, "rb")

    def read_head(self, target: Path, size: int) -> tuple[bytes, int]:
        """The first `size` bytes of a regular file of the work dir and its whole size."""
        with self.open(target) as file:
            return file.read(size), os.fstat(file.fileno()).st_size

    # --- the sandbox --------------------------------------------------------------------------

    async def toolchain(self) -> Toolchain:
        """What the sandbox has, probed on first use. (Two first calls at once both probe,
        which is harmless: no lock, as a lock would tie the workbench to one event loop.)"""
        if self._toolchain is None:
            env = {}
            if self.compiler:
                env = {"WANTED_CC": self.compiler[0], "WANTED_CXX": self.compiler[1]}
            result = await self.sandbox.exec(
                PROBE, workdir=self.root, env=env, timeout_s=PROBE_TIMEOUT_S, limits=self.limits
            )
            if result.exit_code != 0:
                raise ToolError(
                    "could not look for a compiler in the sandbox (exit code "
                    f"{result.exit_code}): {result.stderr.strip()[-500:]}"
                )
            self._toolchain = parse_probe(result.stdout)
        return self._toolchain

    def sanitized_limits(self, timeout_s: float | None = None) -> SandboxLimits:
        """The run's limits for a sanitized binary: no address-space limit (see the module's
        docstring) except under a container, whose memory limit is a cgroup's; the CPU limit
        at least the wall timeout, so that a hang is reported as a timeout."""
        limits = self.limits
        if self.sandbox.name != "container":
            limits = replace(limits, memory_mb=None)
        if timeout_s is not None and limits.cpu_seconds is not None:
            limits = replace(limits, cpu_seconds=max(limits.cpu_seconds, int(timeout_s) + 1))
        return limits

    def sanitizer_env(
        self, toolchain: Toolchain, *, leaks: bool = True, abort: bool = False
    ) -> dict[str, str]:
        """The variables a sanitized binary runs with: reports symbolized and parseable (one
        report, then exit), memory bounded by the sanitizers themselves, OSS-Fuzz's choices
        otherwise. `abort` makes the report end in abort(), for a debugger to stop there;
        `leaks` turns LeakSanitizer on (it cannot run under a debugger)."""
        rss = self.limits.memory_mb or DEFAULT_RSS_MB
        if self.sandbox.name == "container" and self.limits.memory_mb:
            rss = rss * 9 // 10  # the sanitizer reports before the cgroup's OOM killer strikes
        common = [
            f"abort_on_error={int(abort)}",
            "symbolize=1",
            "handle_abort=1",
            "handle_segv=1",
            "handle_sigbus=1",
            "handle_sigfpe=1",
            "handle_sigill=1",
            "use_sigaltstack=1",
            "fast_unwind_on_fatal=0",
            "allocator_may_return_null=1",
            f"hard_rss_limit_mb={rss}",
            f"max_allocation_size_mb={rss}",
            "disable_coredump=1",
        ]
        env = {
            "UBSAN_OPTIONS": ":".join(
                [
                    *common,
                    "print_stacktrace=1",
                    "halt_on_error=1",
                    "report_error_type=1",
                    "silence_unsigned_overflow=1",
                ]
            )
        }
        env["ASAN_OPTIONS"] = ":".join(
            [
                *common,
                f"detect_leaks={int(leaks)}",
                "alloc_dealloc_mismatch=0",
                "check_malloc_usable_size=0",
                "detect_stack_use_after_return=1",
                "strict_memcmp=1",
                "quarantine_size_mb=64",
                "detect_odr_violation=0",
                "dedup_token_length=3",
            ]
        )
        env["MSAN_OPTIONS"] = ":".join([*common, "halt_on_error=1"])
        env["TSAN_OPTIONS"] = ":".join([*common, "halt_on_error=1", "report_signal_unsafe=0"])
        env["LSAN_OPTIONS"] = ":".join([*common, f"detect_leaks={int(leaks)}"])
        if toolchain.symbolizer:
            for tool in ("ASAN", "UBSAN", "MSAN", "TSAN", "LSAN"):
                env[f"{tool}_SYMBOLIZER_PATH"] = toolchain.symbolizer
        return env


def parse_probe(text: str) -> Toolchain:
    values: dict[str, str] = {}
    runtimes = set()
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "runtime":
            runtimes.add(value.strip())
        elif key:
            values[key] = value.strip()
    return Toolchain(
        cc=values.get("cc") or None,
        cxx=values.get("cxx") or None,
        version=values.get("version", ""),
        runtimes=frozenset(runtimes),
        symbolizer=values.get("symbolizer") or None,
        gdb=values.get("gdb") or None,
        python=values.get("python") or None,
    )


def check_sanitizers(sanitizers: list[str]) -> list[str]:
    """The sanitizer names, checked: known ones, in a combination clang accepts."""
    names = list(dict.fromkeys(s.strip().lower() for s in sanitizers))
    unknown = [s for s in names if s not in SANITIZERS]
    if unknown:
        raise ToolError(
            f"unknown sanitizer {', '.join(map(repr, unknown))}; the sanitizers "
            f'are {", ".join(SANITIZERS)} (e.g. ["address", "undefined"])'
        )
    for a, b in INCOMPATIBLE:
        if a in names and b in names:
            raise ToolError(
                f"clang cannot combine the {a} and {b} sanitizers in one build; "
                'build twice, e.g. ["address", "undefined"] then '
                f'["{b if a == "address" else a}"]'
            )
    return names


def executables(root: Path, hidden: tuple[Path, ...] = (), limit: int = 200_000) -> list[str]:
    """The executable regular files under `root` (relative paths), skipping hidden folders
    (.git, ...), CMake's scratch folders and `hidden` paths, without following symlinks."""
    return sorted(executable_states(root, hidden, limit))


def executable_states(
    root: Path, hidden: tuple[Path, ...] = (), limit: int = 200_000
) -> dict[str, tuple[int, int, int]]:
    """Each executable regular file under `root` (see `executables`) with its modification
    time, size and inode: what a build changed is what differs between two of these."""
    found: dict[str, tuple[int, int, int]] = {}
    seen = 0
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        # libtool keeps the real binaries in .libs; other dot-folders (.git) hold none.
        dirs[:] = [
            d
            for d in dirs
            if (d == ".libs" or not d.startswith("."))
            and d not in NO_BINARIES
            and here / d not in hidden
        ]
        for name in files:
            seen += 1
            if seen > limit:
                return found
            try:
                st = os.lstat(here / name)
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode) and st.st_mode & 0o111 and not _library(name):
                found[str((here / name).relative_to(root))] = (
                    st.st_mtime_ns,
                    st.st_size,
                    st.st_ino,
                )
    return found


def _library(name: str) -> bool:
    return name.endswith((".so", ".o", ".a")) or ".so." in name
