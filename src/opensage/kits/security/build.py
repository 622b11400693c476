"""`build`: compile C or C++ with clang and sanitizers, in the sandbox, as OSS-Fuzz does.

The build gets OSS-Fuzz's variables: CC, CXX, CFLAGS and CXXFLAGS (`-g -O1
-fno-omit-frame-pointer` and the sanitizers), LIB_FUZZING_ENGINE (`-fsanitize=fuzzer`, or
without `fuzzer` a small driver whose main runs the target on the files it is given), OUT (the
project's `out/` folder), SRC (the work dir), WORK (scratch, `out/.work`) and SANITIZER. With
no command it builds what the folder holds: `build.sh`, else CMake (configured into `build/`),
else a Makefile using $(CC)/$(CFLAGS) (or make's built-in rules), else lone .c/.cc/.cpp files.
What it reports is what changed: the executables that are new or changed anywhere in the work
dir, or the compiler's errors, trimmed to the `error:` lines with their context (see
build_errors.py).
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.security.build_errors import output_tail, trim_errors
from opensage.kits.security.workbench import (
    Toolchain,
    Workbench,
    check_sanitizers,
    executable_states,
)

DEBUG_FLAGS = "-g -O1 -fno-omit-frame-pointer"
BUILD_TIMEOUT_S = 1800.0
SOURCE_BYTES = 2 << 20  # of a lone source file, read to find main or the fuzzer entry
JOBS = min(os.cpu_count() or 2, 8)
C_SOURCES = (".c",)
CXX_SOURCES = (".cc", ".cpp", ".cxx", ".C")
# Which sanitizer runtime a binary carries: a symbol of it in the file. UBSan's handlers are
# also in the others' runtimes, so it shows alone only; LeakSanitizer is in ASan's.
MARKERS = {
    "address": b"__asan_init",
    "memory": b"__msan_init",
    "thread": b"__tsan_init",
    "leak": b"__lsan_init",
    "undefined": b"__ubsan_handle_",
}
# The runtimes in which each sanitizer asked for would show.
SHOWN_BY = {
    "address": {"address"},
    "memory": {"memory"},
    "thread": {"thread"},
    "leak": {"leak", "address"},
    "undefined": {"undefined", "address", "memory", "thread"},
}
MAX_SCANNED = 512 << 20  # bytes of a binary searched for those markers
CHUNK = 8 << 20

# libFuzzer's entry point driven by a plain main, for builds without libFuzzer: each argument
# that is not a -flag is a file to run the target on (exactly its size, so an overflow shows).
STANDALONE_MAIN = r"""
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);
int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-') continue;
    FILE *f = fopen(argv[i], "rb");
    if (!f) { perror(argv[i]); return 1; }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = malloc(size);
    size_t got = fread(data, 1, size, f);
    fclose(f);
    LLVMFuzzerTestOneInput(data, got);
    free(data);
  }
  return 0;
}
"""


@dataclass(frozen=True, slots=True)
class Flags:
    """The compiler settings of one build."""

    sanitizers: tuple[str, ...]
    fuzzer: bool
    cc: str
    cxx: str

    @property
    def sanitize(self) -> str:
        """The -fsanitize flags, for compiling and linking alike."""
        if not self.sanitizers:
            return ""
        extra = " -fsanitize-memory-track-origins" if "memory" in self.sanitizers else ""
        return f"-fsanitize={','.join(self.sanitizers)}{extra}"

    @property
    def cflags(self) -> str:
        coverage = " -fsanitize=fuzzer-no-link" if self.fuzzer else ""
        return f"{DEBUG_FLAGS} {self.sanitize}".strip() + coverage

    @property
    def describe(self) -> str:
        return f"{self.cflags}{' (libFuzzer)' if self.fuzzer else ''}"

    def env(self, bench: Workbench, out: Path, work: Path) -> dict[str, str]:
        engine = "-fsanitize=fuzzer" if self.fuzzer else str(work / "standalone_main.o")
        return {
            "CC": self.cc,
            "CXX": self.cxx,
            "CFLAGS": self.cflags,
            "CXXFLAGS": self.cflags,
            "LIB_FUZZING_ENGINE": engine,
            "OUT": str(out),
            "SRC": str(bench.root),
            "WORK": str(work),
            "SANITIZER": ",".join(self.sanitizers) or "none",
            "FUZZING_ENGINE": "libfuzzer" if self.fuzzer else "none",
            "ARCHITECTURE": "x86_64",
        }


async def build(
    bench: Workbench,
    command: str | None = None,
    sanitizers: list[str] | None = None,
    fuzzer: bool = False,
    path: str = ".",
    timeout_s: float = BUILD_TIMEOUT_S,
) -> str:
    """Build C or C++ code with clang and sanitizers (-g -O1 -fno-omit-frame-pointer), the way
    OSS-Fuzz does: CC, CXX, CFLAGS, CXXFLAGS, LIB_FUZZING_ENGINE, OUT (the folder's out/), SRC
    and WORK are set for the build. Without a command it builds what the folder holds:
    build.sh, CMakeLists.txt (into build/), a Makefile using $(CC)/$(CFLAGS), or lone
    .c/.cc/.cpp files (each with a main becomes out/NAME; each defining
    LLVMFuzzerTestOneInput a fuzz target, linked with libFuzzer when fuzzer is true). Returns
    the executables the build made or changed, or the compiler's errors.

    Args:
        command: a shell command that builds (e.g. "make -j4 fuzz" or
            "$CC $CFLAGS x.c -o $OUT/x"), run in the folder; none: build what it holds.
        sanitizers: among address, undefined, memory, leak, thread (address and undefined by
            default; memory and thread each go alone, or with undefined).
        fuzzer: build fuzz targets with libFuzzer (LIB_FUZZING_ENGINE=-fsanitize=fuzzer), with
            coverage instrumentation in CFLAGS.
        path: the folder to build, relative to the work directory.
    """
    names = check_sanitizers(["address", "undefined"] if sanitizers is None else sanitizers)
    folder = bench.path(path, "folder to build")
    if not folder.is_dir():
        raise ToolError(
            f"{path!r} is a file; give the folder to build (path) and, if needed, "
            "the command that builds it"
        )
    toolchain = await bench.toolchain()
    cc, cxx = toolchain.require_compiler()
    _check_runtimes(toolchain, names, fuzzer)
    flags = Flags(tuple(names), fuzzer, cc, cxx)
    out, work = folder / "out", folder / "out" / ".work"
    how, script = _plan(bench, folder, flags, command, out, work)
    before = executable_states(bench.root, bench.hidden)
    result = await bench.sandbox.exec(
        _script(flags, folder, work, script),
        workdir=bench.root,
        env=flags.env(bench, out, work),
        timeout_s=timeout_s,
        limits=bench.sanitized_limits(),
    )
    after = executable_states(bench.root, bench.hidden)
    made = [p for p, state in after.items() if before.get(p) != state and _elf(bench, p)]
    output = result.stdout
    if result.timed_out:
        raise ToolError(
            f"the build ({how}) ran past its {timeout_s:g} s timeout and was "
            f"stopped. Its output's end:\n{output_tail(output, bench.root)}"
        )
    if result.exit_code != 0 and not made:
        raise ToolError(
            f"the build ({how}) failed with exit code {result.exit_code}"
            f"{_limit(result.limit)}.\n{trim_errors(output, bench.root)}"
        )
    return _report(bench, made, how, flags, toolchain, result.exit_code, output)


def _check_runtimes(toolchain: Toolchain, sanitizers: list[str], fuzzer: bool) -> None:
    missing = toolchain.missing(sanitizers + (["fuzzer"] if fuzzer else []))
    if missing:
        version = toolchain.version.split(".")[0]
        raise ToolError(
            f"{toolchain.name} in the sandbox lacks the runtime of {', '.join(missing)} "
            f"(install libclang-rt-{version}-dev, and libfuzzer-{version}-dev for the fuzzer; "
            "the container image is rebuilt with scripts/build-sandbox-image.sh)"
        )


def _plan(
    bench: Workbench, folder: Path, flags: Flags, command: str | None, out: Path, work: Path
) -> tuple[str, str]:
    """How to build the folder, said for the model, and the shell text that does it."""
    if command is not None:
        if not command.strip():
            raise ToolError(
                "the command is empty; give a build command, or none to build what the folder holds"
            )
        return f"command {command!r}", f"bash -c {shlex.quote(command)}"
    if (folder / "build.sh").is_file():
        return "build.sh", "bash -e ./build.sh"
    if (folder / "CMakeLists.txt").is_file():
        configure = (
            'cmake -S . -B build -DCMAKE_BUILD_TYPE= -DCMAKE_C_COMPILER="$CC" '
            '-DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_C_FLAGS="$CFLAGS" '
            '-DCMAKE_CXX_FLAGS="$CXXFLAGS"'
        )
        return "CMakeLists.txt, into build/", f"{configure} && cmake --build build -j{JOBS}"
    makefile = next(
        (folder / n for n in ("GNUmakefile", "makefile", "Makefile") if (folder / n).is_file()),
        None,
    )
    if makefile is not None:
        return f"{makefile.name}", _make(bench, makefile, flags)
    return _lone_files(bench, folder, flags, out, work)


def _make(bench: Workbench, makefile: Path, flags: Flags) -> str:
    """make, with CC and CXX given on its command line carrying the debug and sanitizer flags:
    a Makefile that sets CFLAGS itself keeps them so, at compiling and linking alike."""
    text = bench.read_head(makefile, SOURCE_BYTES)[0].decode(errors="replace")
    uses = re.search(r"\$[({](CC|CXX|CFLAGS|CXXFLAGS)[)}]", text)
    hardcoded = re.search(r"^\t\s*(?:@\s*)?(?:gcc|g\+\+|cc|c\+\+)\s", text, re.MULTILINE)
    if hardcoded and not uses:
        raise ToolError(
            f"{makefile.name} calls the compiler by name ({hardcoded[0].strip()!r}) instead of "
            "$(CC)/$(CXX), so the sanitizers cannot be put in; pass a command instead, e.g. "
            'command="make CC=$CC CXX=$CXX" after editing it to use $(CC), or compile '
            'directly: command="$CC $CFLAGS src/*.c -o $OUT/prog"'
        )
    extra = f" {DEBUG_FLAGS} {flags.sanitize}".rstrip()
    return f'make -j{JOBS} CC="$CC{extra}" CXX="$CXX{extra}"'


def _lone_files(
    bench: Workbench, folder: Path, flags: Flags, out: Path, work: Path
) -> tuple[str, str]:
    """One compiler call per program (a file with main) and per fuzz target, each with the
    files that have neither (shared code); C++ when any of its files is."""
    sources = sorted(
        p for p in folder.iterdir() if p.suffix in C_SOURCES + CXX_SOURCES and p.is_file()
    )
    if not sources:
        raise ToolError(
            f"nothing to build in {bench.relative(folder) or '.'}: no build.sh, CMakeLists.txt, "
            "Makefile, or .c/.cc/.cpp file. Give the folder that holds the code (path), or "
            'the command that builds it (e.g. command="./configure && make")'
        )
    programs, targets, shared = [], [], []
    for source in sources:
        text = bench.read_head(source, SOURCE_BYTES)[0].decode(errors="replace")
        if re.search(r"\bLLVMFuzzerTestOneInput\s*\(", text):
            targets.append(source)
        elif re.search(r"\b(?:int|void)\s+main\s*\(", text):
            programs.append(source)
        else:
            shared.append(source)
    if not programs and not targets:
        raise ToolError(
            "no file here defines main() or LLVMFuzzerTestOneInput(), so there is nothing to "
            "link; pass the command that builds the program"
        )
    lines = ["status=0"]
    objects = []
    for source in shared:  # compiled once, as C or C++ by their own suffix
        obj = work / f"{source.name}.o"
        compiler = "$CXX $CXXFLAGS" if source.suffix in CXX_SOURCES else "$CC $CFLAGS"
        lines.append(f"{compiler} -c {_q(source.name)} -o {_q(obj)} || status=1")
        objects.append(_q(obj))
    for source in programs + targets:
        fuzz = source in targets
        cxx = source.suffix in CXX_SOURCES or any(s.suffix in CXX_SOURCES for s in shared)
        compiler = "$CXX $CXXFLAGS" if cxx else "$CC $CFLAGS"
        if not fuzz and flags.fuzzer:  # no libFuzzer to give the coverage hooks a home
            compiler = f"{'$CXX' if cxx else '$CC'} {DEBUG_FLAGS} {flags.sanitize}"
        engine = " $LIB_FUZZING_ENGINE" if fuzz else ""
        lines.append(
            f"{compiler} {_q(source.name)} {' '.join(objects)}{engine} "
            f"-o {_q(out / source.stem)} || status=1"
        )
    lines.append("exit $status")
    names = ", ".join(p.name for p in programs + targets)
    return f"lone files: {names}", "\n".join(lines)


def _script(flags: Flags, folder: Path, work: Path, build: str) -> str:
    """The whole build as one shell script: the folders, the standalone driver (unless
    libFuzzer provides main), then the build in the folder, its stderr with its stdout."""
    driver = ""
    if not flags.fuzzer:
        driver = (
            f"cat > \"$WORK/standalone_main.c\" <<'OPENSAGE_EOF'\n{STANDALONE_MAIN}"
            'OPENSAGE_EOF\n$CC $CFLAGS -c "$WORK/standalone_main.c" '
            '-o "$WORK/standalone_main.o" || exit 1\n'
        )
    return (
        f'exec 2>&1\nmkdir -p "$OUT" "$WORK" || exit 1\n{driver}'
        f"cd {_q(folder)} || exit 1\n{build}\n"
    )


def _report(
    bench: Workbench,
    made: list[str],
    how: str,
    flags: Flags,
    toolchain: Toolchain,
    exit_code: int,
    output: str,
) -> str:
    head = f"built with {toolchain.name}, {flags.describe}; from {how}"
    if not made:
        return (
            f"{head}: the build succeeded but made or changed no executable. Executables "
            "are looked for in the whole work directory; if the build put its binaries "
            'elsewhere or they were up to date, run a clean build (e.g. command="make '
            'clean && make").'
        )
    lines = [f"{head}: {len(made)} executable{'s' if len(made) > 1 else ''}"]
    for rel in sorted(made):
        found = instrumented(bench, rel)
        missing = [s for s in flags.sanitizers if not SHOWN_BY[s] & found]
        note = (
            f"  (no {', '.join(missing)} instrumentation found in it: the build did not "
            "pass CFLAGS/CXXFLAGS to the compiler)"
            if missing
            else ""
        )
        lines.append(f"  {rel}{note}")
    if exit_code != 0:
        lines.append(
            f"but the build failed (exit code {exit_code}):\n{trim_errors(output, bench.root)}"
        )
    return "\n".join(lines)


def instrumented(bench: Workbench, rel: str) -> set[str]:
    """The sanitizer runtimes in the binary (their symbols' names are in it): address,
    memory, thread, leak (alone), or undefined when it is the only one. (UBSan next to another
    sanitizer shares its runtime and cannot be told apart.)"""
    found: set[str] = set()
    overlap = max(len(m) for m in MARKERS.values())
    tail = b""
    with bench.open(bench.root / rel) as file:
        for _ in range(MAX_SCANNED // CHUNK):
            chunk = file.read(CHUNK)
            if not chunk:
                break
            data, tail = tail + chunk, chunk[-overlap:]
            found.update(name for name, marker in MARKERS.items() if marker in data)
    return found - {"undefined"} if found - {"undefined"} else found


def _elf(bench: Workbench, rel: str) -> bool:
    try:
        return bench.read_head(bench.root / rel, 4)[0] == b"\x7fELF"
    except OSError:
        return False


def _limit(limit: str | None) -> str:
    return f" (stopped by the sandbox's {limit} limit)" if limit else ""


def _q(path: Path | str) -> str:
    return shlex.quote(str(path))
