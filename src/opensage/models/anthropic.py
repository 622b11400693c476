"""Anthropic Messages API, through the official `anthropic` SDK: the wire format; the client,
retries and errors are `SdkModel`'s."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from opensage.models.base import Message, ModelSettings, ToolSchema, tool_calls_from_wire
from opensage.models.sdk_model import SdkModel

DEFAULT_MAX_OUTPUT_TOKENS = 4096


def _tool_input(arguments: str) -> dict[str, Any]:
    # A malformed call was already answered with an error, but the tool_use block must still be
    # sent for its tool_result to refer to; keep the raw text so the model can see its mistake.
    try:
        value = json.loads(arguments) if arguments else {}
    except json.JSONDecodeError:
        return {"raw_arguments": arguments}
    return value if isinstance(value, dict) else {"raw_arguments": arguments}


def to_anthropic(messages: Sequence[Message]) -> tuple[str, list[dict[str, Any]]]:
    """Split out the system prompt and fold tool results into user turns, as the API expects."""
    system: list[str] = []
    out: list[dict[str, Any]] = []

    def append(role: str, blocks: list[dict[str, Any]]) -> None:
        if out and out[-1]["role"] == role:  # the API wants user/assistant turns to alternate
            out[-1]["content"].extend(blocks)
        else:
            out.append({"role": role, "content": blocks})

    for m in messages:
        if m.role == "system":
            system.append(m.content)
        elif m.role == "tool":
            block: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": m.tool_call_id,
                "content": m.content,
            }
            if m.is_error:
                block["is_error"] = True
            append("user", [block])
        elif m.role == "assistant":
            blocks: list[dict[str, Any]] = []
            if m.content:
                blocks.append({"type": "text", "text": m.content})
            blocks.extend(
                {"type": "tool_use", "id": c.id, "name": c.name, "input": _tool_input(c.arguments)}
                for c in m.tool_calls
            )
            append("assistant", blocks or [{"type": "text", "text": "(no reply)"}])
        else:
            append("user", [{"type": "text", "text": m.content}])
    return "\n\n".join(system), out


def to_anthropic_tool_choice(choice: str) -> dict[str, Any]:
    if choice == "auto":
        return {"type": "auto"}
    if choice == "required":
        return {"type": "any"}
    if choice == "none":
        return {"type": "none"}
    return {"type": "tool", "name": choice}


class AnthropicModel(SdkModel):
    provider = "anthropic"
    sdk_module, sdk_client, sdk_error = "anthropic", "AsyncAnthropic", "AnthropicError"
    reply_kind = "a Messages API reply"
    # Cached input is input too: it is priced (and limited) as such.
    input_token_fields = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")
    output_token_field = "output_tokens"

    def _wire_messages(self, messages: Sequence[Message]) -> dict[str, Any]:
        system, wire = to_anthropic(messages)
        return {"messages": wire, "system": system} if system else {"messages": wire}

    def _wire_tools(self, tools: Sequence[ToolSchema]) -> list[dict[str, Any]]:
        return [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in tools
        ]

    def _wire_tool_choice(self, choice: str) -> Any:
        return to_anthropic_tool_choice(choice)

    def _wire_options(self, settings: ModelSettings) -> dict[str, Any]:
        # No temperature: the Messages API deprecated it (models from Opus 4.7 on answer 400)
        # and the SDK no longer takes it; every model accepts its absence. A caller who wants
        # it for an older model can send it in `extra_body`.
        return {"max_tokens": settings.max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS}

    async def _post(self, body: dict[str, Any]) -> str:
        raw = await self._client.messages.with_raw_response.create(**body)
        return str(await raw.text())

    def _read(self, reply: dict[str, Any], body: str) -> tuple[Message, Any]:
        blocks = reply.get("content")
        if not isinstance(blocks, list):
            raise self._not_a_reply(body)
        blocks = [b for b in blocks if isinstance(b, dict)]
        texts = [
            b["text"] for b in blocks if b.get("type") == "text" and isinstance(b.get("text"), str)
        ]
        calls = tool_calls_from_wire(
            (b.get("id"), b.get("name"), b.get("input"))
            for b in blocks
            if b.get("type") == "tool_use"
        )
        message = Message(role="assistant", content="".join(texts), tool_calls=calls)
        return message, reply.get("stop_reason")
