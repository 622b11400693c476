"""Which agent a tool is running for.

The loop sets `CURRENT_CALL` around each tool call (each concurrent call gets its own value),
so tools that act on the agent calling them, such as the topology tools that start sub-agents
under the caller's budget and in its event tree, can find it. Ordinary tools never need it.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opensage.core.loop import AgentLoop


@dataclass(frozen=True, slots=True)
class CallContext:
    loop: AgentLoop  # the agent whose tool call this is
    event: int  # the tool_call event: the parent of whatever the tool records


CURRENT_CALL: ContextVar[CallContext | None] = ContextVar("opensage_current_call", default=None)


def current_call() -> CallContext:
    found = CURRENT_CALL.get()
    if found is None:
        raise RuntimeError("this tool can only run inside an agent's tool call")
    return found
