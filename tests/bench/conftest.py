"""The bench tests find the compiler as a run would with no CC or CXX set: the newest clang in
the sandbox."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_compiler_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.delenv("CXX", raising=False)
