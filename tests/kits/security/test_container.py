"""The security kit's main path on the container backend (the image scripts/build-sandbox-image.sh
builds, with clang, libFuzzer, llvm's symbolizer and gdb): build, write_poc, run_poc, triage,
crash_context and compare_builds, as on bwrap."""

from __future__ import annotations

import pytest

from opensage.kits.security.build import build
from opensage.kits.security.compare import compare_builds
from opensage.kits.security.poc import run_poc, write_poc
from opensage.kits.security.triage import crash_context, triage
from opensage.sandbox import SandboxLimits, open_sandbox
from tests.kits.security.programs import HEAP, INPUT, MODES, UAF, bench, line_of, run, write

pytestmark = pytest.mark.slow

FIXED = HEAP.replace("cells[at] = 'x';", "if (at < 16) cells[at] = 'x';")


@pytest.fixture(scope="module")
def container():
    return open_sandbox("container")


def test_the_main_path_on_the_container_backend(tmp_path, container):
    root = write(
        tmp_path / "work", {"input.c": INPUT, "heap.c": HEAP, "uaf.c": UAF, "modes.c": MODES}
    )
    write(root / "fixed", {"input.c": INPUT, "heap.c": FIXED})
    # The memory limit stays (a cgroup's under a container: resident memory, which ASan's
    # reserved shadow does not fill).
    work = bench(root, container)
    work.limits = SandboxLimits(memory_mb=1024)
    toolchain = run(work.toolchain())
    assert toolchain.cc and toolchain.gdb and toolchain.symbolizer, toolchain
    assert {"asan", "fuzzer"} <= toolchain.runtimes, (
        "the container image lacks clang's runtimes: rebuild it with scripts/build-sandbox-image.sh"
    )
    report = run(build(work))
    assert "3 executables\n  out/heap\n  out/modes\n  out/uaf" in report
    assert "fixed/out/heap" in run(build(work, path="fixed"))

    assert run(
        write_poc(work, "import sys; open(sys.argv[1], 'wb').write(bytes([20]))", "crashes/heap")
    ).startswith("wrote crashes/heap: 1 bytes")
    text = run(run_poc(work, "out/heap", "crashes/heap"))
    assert text.startswith("CRASHED")
    assert "heap-buffer-overflow (AddressSanitizer), WRITE of size 1" in text
    assert f"#0 store heap.c:{line_of(HEAP, 'HEAP')}" in text  # symbolized in the container

    (root / "crashes/uaf").write_bytes(b"U")
    (root / "crashes/heap2").write_bytes(bytes([30]))
    table = run(triage(work, "out/heap", ["crashes/heap", "crashes/heap2"]))
    assert table.startswith("2 inputs: 2 crashed, 1 distinct signature")
    assert "heap-use-after-free (AddressSanitizer), READ of size 4" in run(
        run_poc(work, "out/uaf", "crashes/uaf")
    )

    context = run(crash_context(work, "out/heap", "crashes/heap"))
    assert "store (cells=0x" in context and f"at heap.c:{line_of(HEAP, 'HEAP')}" in context
    assert '    in = "\\024"' in context  # main's local: the input, byte 20

    verdict = run(compare_builds(work, "crashes/heap", "out/heap", "fixed/out/heap"))
    assert verdict.startswith("REPRODUCED")

    (root / "hang").write_bytes(b"H")
    assert run(run_poc(work, "out/modes", "hang", timeout_s=2)).startswith(
        "no crash: it timed out after 2 s"
    )
