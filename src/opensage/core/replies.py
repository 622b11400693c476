"""What a model's reply must be before the loop, or a side request, uses it."""

from __future__ import annotations

from dataclasses import replace

from opensage.models.base import (
    Message,
    ModelError,
    ModelResponse,
    ToolCall,
    Usage,
    tool_calls_from_wire,
)


def checked(response: ModelResponse) -> ModelResponse:
    """A model's response as the loop can use it. The adapters already check what endpoints
    send; a model written elsewhere may not, so a malformed reply is refused here (the model
    failed) and malformed tool calls are repaired into calls answered as format errors, rather
    than breaking the loop or the run's record."""
    if (
        not isinstance(response, ModelResponse)
        or not isinstance(response.message, Message)
        or not isinstance(response.usage, Usage)
    ):
        raise ModelError(f"the model returned {type(response).__name__!r}, not a ModelResponse")
    u, m = response.usage, response.message
    if not (_count(u.input_tokens) and _count(u.output_tokens) and _count(u.cost_usd)):
        raise ModelError(
            f"the model reported usage that cannot be: {u.input_tokens!r} input "
            f"and {u.output_tokens!r} output tokens, ${u.cost_usd!r}"
        )
    calls = m.tool_calls or ()
    if (
        m.role == "assistant"
        and type(m.content) is str
        and all(
            type(c) is ToolCall
            and type(c.id) is str
            and type(c.name) is str
            and type(c.arguments) is str
            for c in calls
        )
        and len({c.id for c in calls}) == len(calls)
    ):
        return response
    repaired = tool_calls_from_wire(
        (getattr(c, "id", None), getattr(c, "name", None), getattr(c, "arguments", None))
        for c in calls
    )
    text = m.content if isinstance(m.content, str) else ""
    return replace(response, message=Message("assistant", text, tool_calls=repaired))


def _count(value: object) -> bool:
    """A usage figure the budget can trust: a number, not negative (nor NaN)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
