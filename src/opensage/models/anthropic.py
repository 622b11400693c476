"""Anthropic Messages API, through the official `anthropic` SDK."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from opensage.models.base import (
    Message,
    ModelResponse,
    ModelSettings,
    ToolSchema,
    Usage,
    not_a_reply,
    token_count,
    tool_calls_from_wire,
)
from opensage.models.pricing import Price, priced_usage
from opensage.models.retry import RetryPolicy, with_retries
from opensage.models.sdk_errors import map_sdk_error

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
                "type": "tool_result", "tool_use_id": m.tool_call_id, "content": m.content
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


class AnthropicModel:
    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        retry: RetryPolicy | None = None,
        price: Price | None = None,
        spec: str | None = None,
    ):
        import anthropic  # imported here: the SDK is slow to import

        self.model = model
        self.retry = retry or RetryPolicy()
        self.price = price
        self._spec = spec or f"anthropic:{model}"
        self._sdk = anthropic
        self._client = anthropic.AsyncAnthropic(
            base_url=base_url, api_key=api_key, timeout=timeout_s, max_retries=0
        )
        self.base_url = str(self._client.base_url)

    @property
    def name(self) -> str:
        return self._spec

    async def request(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSchema],
        settings: ModelSettings | None = None,
    ) -> ModelResponse:
        settings = settings or ModelSettings()
        system, wire = to_anthropic(messages)
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": wire,
            "max_tokens": settings.max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS,
        }
        if system:
            kwargs["system"] = system
        if tools:
            kwargs["tools"] = [
                {"name": t.name, "description": t.description, "input_schema": t.parameters}
                for t in tools
            ]
            kwargs["tool_choice"] = to_anthropic_tool_choice(settings.tool_choice)
        if settings.temperature is not None:
            kwargs["temperature"] = settings.temperature

        async def once() -> str:
            try:
                # The raw body: read here, so that a 200 answer which is not a Messages reply
                # is reported as such rather than as a parser's exception.
                raw = await self._client.messages.with_raw_response.create(**kwargs)
            except self._sdk.AnthropicError as exc:
                raise map_sdk_error(
                    self._sdk, exc, model=self.model, endpoint=self.base_url
                ) from exc
            return await raw.text()

        return self._parse(await with_retries(once, self.retry))

    def _parse(self, body: str) -> ModelResponse:
        try:
            reply = json.loads(body)
        except ValueError:
            reply = None
        blocks = reply.get("content") if isinstance(reply, dict) else None
        if not isinstance(reply, dict) or not isinstance(blocks, list):
            raise not_a_reply(self.base_url, "a Messages API reply", body)
        blocks = [b for b in blocks if isinstance(b, dict)]
        texts = [b["text"] for b in blocks if b.get("type") == "text"
                 and isinstance(b.get("text"), str)]
        calls = tool_calls_from_wire((b.get("id"), b.get("name"), b.get("input"))
                                     for b in blocks if b.get("type") == "tool_use")
        return ModelResponse(
            message=Message(role="assistant", content="".join(texts), tool_calls=calls),
            usage=self._usage(reply.get("usage")),
            model=reply["model"] if isinstance(reply.get("model"), str) else self.model,
            finish_reason=reply["stop_reason"] if isinstance(reply.get("stop_reason"), str)
            else None,
        )

    def _usage(self, u: Any) -> Usage:
        u = u if isinstance(u, dict) else {}
        # Cached input is input too: it is priced (and limited) as such.
        input_tokens = sum(token_count(u.get(k), k, self.base_url) for k in (
            "input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens"))
        return priced_usage(self.price, input_tokens,
                            token_count(u.get("output_tokens"), "output_tokens", self.base_url))

    async def aclose(self) -> None:
        await self._client.close()
