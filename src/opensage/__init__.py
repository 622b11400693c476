"""OpenSage: an Agent Development Kit in which the model designs its own agent system.

    from opensage import Agent, tool

The names below are loaded when first used, so that importing a part of OpenSage (the memory
store, the sandbox, the models) does not import the agent loop and everything else with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from opensage.version import __version__

if TYPE_CHECKING:
    from opensage.agent import Agent
    from opensage.core.budget import Budget, BudgetExceeded, Limits
    from opensage.core.context import RunContext
    from opensage.core.loop import RunResult
    from opensage.core.tools import Tool, Toolset, tool
    from opensage.kits import Kit, register_kit
    from opensage.models.base import Model, ModelSettings, Usage

_WHERE = {
    "Agent": "opensage.agent",
    "Budget": "opensage.core.budget",
    "BudgetExceeded": "opensage.core.budget",
    "Limits": "opensage.core.budget",
    "RunContext": "opensage.core.context",
    "RunResult": "opensage.core.loop",
    "Tool": "opensage.core.tools",
    "Toolset": "opensage.core.tools",
    "tool": "opensage.core.tools",
    "Kit": "opensage.kits",
    "register_kit": "opensage.kits",
    "Model": "opensage.models.base",
    "ModelSettings": "opensage.models.base",
    "Usage": "opensage.models.base",
}

__all__ = [
    "Agent",
    "Budget",
    "BudgetExceeded",
    "Kit",
    "Limits",
    "Model",
    "ModelSettings",
    "RunContext",
    "RunResult",
    "Tool",
    "Toolset",
    "Usage",
    "__version__",
    "register_kit",
    "tool",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'opensage' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value
