"""Kits: named toolsets an agent can be given (`Agent(kits=[...])`). They are recorded by name,
so a resumed run gets them back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensage.sandbox.base import Sandbox, SandboxLimits

if TYPE_CHECKING:
    from opensage.core.tools import Tool
    from opensage.models.base import Model


@dataclass
class KitContext:
    """What a run's kits may use: its work dir, its sandbox (opened when first needed), where
    state lives, how to get a model by spec, and how to build the work-dir kits for another
    work dir (an ensemble member's copy). Made once per run, shared by its agents."""

    workdir: Path
    open_sandbox: Callable[[], Sandbox]
    run_id: str = ""
    model: Model | None = None  # the run's model, for kits that ask it something at the end
    sandbox_limits: SandboxLimits = field(default_factory=SandboxLimits)
    home: Path = Path(".")
    resolve_model: Callable[[str], Model] | None = None
    kit_tools_for: Callable[[Path], list[Tool]] | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # [topology] etc. from the config
    cleanups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)  # at run end
    _sandbox: Sandbox | None = None

    def sandbox(self) -> Sandbox:
        """The run's sandbox, opened on first use: runs that never need one never require one."""
        if self._sandbox is None:
            self._sandbox = self.open_sandbox()
        return self._sandbox
