"""OpenSage: an Agent Development Kit in which the model designs its own agent system.

    from opensage import Agent, tool
"""

__version__ = "0.1.0"

from opensage.agent import Agent
from opensage.core.budget import Budget, BudgetExceeded, Limits
from opensage.core.loop import RunResult
from opensage.core.tools import Tool, Toolset, tool
from opensage.models.base import Model, ModelSettings, Usage

__all__ = [
    "Agent",
    "Budget",
    "BudgetExceeded",
    "Limits",
    "Model",
    "ModelSettings",
    "RunResult",
    "Tool",
    "Toolset",
    "Usage",
    "__version__",
    "tool",
]
