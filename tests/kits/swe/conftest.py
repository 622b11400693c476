"""The sandboxes the SWE kit's tests run in: bwrap (made once per module) and, for the slow
tests, the container backend, skipped where this machine has no container engine."""

from __future__ import annotations

import pytest

from opensage.sandbox import Sandbox, SandboxUnavailable, open_sandbox


@pytest.fixture(scope="module")
def bwrap() -> Sandbox:
    return open_sandbox("bwrap")


@pytest.fixture
def container() -> Sandbox:
    try:
        return open_sandbox("container")
    except SandboxUnavailable as exc:
        pytest.skip(f"no container engine here: {exc}")
