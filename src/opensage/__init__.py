"""OpenSage: an Agent Development Kit in which the model designs its own agent system.

    from opensage import Agent, tool
"""

__version__ = "0.1.0"

from opensage.agent import Agent
from opensage.core.budget import Budget, BudgetExceeded, Limits
from opensage.core.context import RunContext
from opensage.core.loop import RunResult
from opensage.core.tools import Tool, Toolset, tool
from opensage.kits import Kit, register_kit
from opensage.models.base import Model, ModelSettings, Usage

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
