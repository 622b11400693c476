"""Every test gets its own OPENSAGE_HOME and no hosted-model keys, so nothing can leak to (or
from) a developer's real setup or reach a hosted API."""

from __future__ import annotations

from pathlib import Path

import pytest

from opensage.core.events import EventLog

HOSTED_ENV = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "OPENSAGE_MODEL",
    "OPENSAGE_MAX_STEPS",
    "OPENSAGE_MAX_COST_USD",
    "OPENSAGE_MAX_TOKENS",
    "OPENSAGE_MAX_SECONDS",
)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "home"
    monkeypatch.setenv("OPENSAGE_HOME", str(path))
    for name in HOSTED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return path


@pytest.fixture
def log(home: Path) -> EventLog:
    return EventLog(home / "events.db")
