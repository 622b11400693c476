"""Kits: named toolsets an agent can be given (`Agent(kits=[...])`). They are recorded by name,
so a resumed run gets them back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from opensage.sandbox.base import Sandbox, SandboxLimits


@dataclass
class KitContext:
    """What a kit's tools may use: the run's work dir and, when they need one, its sandbox."""

    workdir: Path
    open_sandbox: Callable[[], Sandbox]
    sandbox_limits: SandboxLimits = field(default_factory=SandboxLimits)
    _sandbox: Sandbox | None = None

    def sandbox(self) -> Sandbox:
        """The run's sandbox, opened on first use: runs that never need one never require one."""
        if self._sandbox is None:
            self._sandbox = self.open_sandbox()
        return self._sandbox
