import asyncio
import os

import pytest

from opensage.sandbox import SandboxLimits, SandboxUnavailable, open_sandbox

BACKENDS = ["bwrap", pytest.param("container", marks=pytest.mark.slow)]


@pytest.fixture(params=BACKENDS)
def sandbox(request):
    try:
        return open_sandbox(request.param)
    except SandboxUnavailable as exc:
        # CI installs every backend, so there this is a failure; on a developer's machine
        # without podman the container suite is skipped, saying why.
        if request.param == "container" and not os.environ.get("CI"):
            pytest.skip(f"container backend unavailable: {exc}")
        raise


@pytest.fixture
def work(tmp_path):
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def run(sandbox, work):
    """Run a command in the sandbox; afterwards check that the sandbox is still healthy."""

    def go(cmd, timeout_s=30, **limits):
        return asyncio.run(
            sandbox.exec(cmd, workdir=work, timeout_s=timeout_s, limits=SandboxLimits(**limits))
        )

    yield go
    after = asyncio.run(sandbox.exec("echo healthy", workdir=work, timeout_s=30))
    assert after.exit_code == 0 and after.stdout == "healthy\n", after
