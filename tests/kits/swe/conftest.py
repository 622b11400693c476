"""The sandboxes the SWE kit's tests run in: bwrap (made once per module) and, for the slow
tests, the container backend: skipped on a developer's machine without a container engine, a
failure in CI, which installs every backend."""

from __future__ import annotations

import os

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
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no container engine here: {exc}")
