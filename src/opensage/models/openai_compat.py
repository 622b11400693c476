"""Any OpenAI-compatible Chat Completions endpoint, through the official `openai` SDK.

Covers OpenAI itself and the servers that copy its wire format (vLLM, llama.cpp, Ollama,
OpenRouter...). The SDK's own retries are off: `with_retries` gives every provider the same
policy and lets the agent log each retry.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from opensage.models.base import (
    Message,
    ModelError,
    ModelResponse,
    ModelSettings,
    ToolCall,
    ToolSchema,
)
from opensage.models.pricing import Price, priced_usage
from opensage.models.retry import RetryPolicy, with_retries
from opensage.models.sdk_errors import map_sdk_error

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def to_openai_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "tool":
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content})
        elif m.role == "assistant" and m.tool_calls:
            out.append({
                "role": "assistant",
                # "" rather than null: the spec allows both, some servers (llama.cpp) only "".
                "content": m.content,
                "tool_calls": [
                    {"id": c.id, "type": "function",
                     "function": {"name": c.name, "arguments": c.arguments}}
                    for c in m.tool_calls
                ],
            })
        else:
            out.append({"role": m.role, "content": m.content})
    return out


def to_openai_tools(tools: Sequence[ToolSchema]) -> list[dict[str, Any]]:
    return [
        {"type": "function",
         "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
        for t in tools
    ]


def to_openai_tool_choice(choice: str) -> Any:
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


class OpenAIModel:
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
        extra_body: dict[str, Any] | None = None,
    ):
        import openai  # imported here: the SDK costs ~0.3 s to import

        self.model = model
        self.base_url = base_url or DEFAULT_BASE_URL
        self.retry = retry or RetryPolicy()
        self.price = price
        self.extra_body = extra_body
        self._spec = spec or f"openai:{model}"
        self._sdk = openai
        # A local server needs no key, but the SDK insists on one.
        self._client = openai.AsyncOpenAI(
            base_url=self.base_url, api_key=api_key or "unused", timeout=timeout_s, max_retries=0
        )

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
        kwargs: dict[str, Any] = {"model": self.model, "messages": to_openai_messages(messages)}
        if tools:
            kwargs["tools"] = to_openai_tools(tools)
            kwargs["tool_choice"] = to_openai_tool_choice(settings.tool_choice)
        if settings.temperature is not None:
            kwargs["temperature"] = settings.temperature
        if settings.max_output_tokens is not None:
            kwargs["max_tokens"] = settings.max_output_tokens
        if self.extra_body:
            kwargs["extra_body"] = self.extra_body

        async def once() -> Any:
            try:
                return await self._client.chat.completions.create(**kwargs)
            except self._sdk.OpenAIError as exc:
                raise map_sdk_error(
                    self._sdk, exc, model=self.model, endpoint=self.base_url
                ) from exc

        completion = await with_retries(once, self.retry)
        return self._parse(completion)

    def _parse(self, completion: Any) -> ModelResponse:
        if not completion.choices:
            raise ModelError(f"{self.base_url} returned no choices for model {self.model!r}")
        choice = completion.choices[0]
        msg = choice.message
        calls = tuple(
            ToolCall(
                id=c.id or f"call_{i}",
                name=c.function.name,
                arguments=_arguments_text(c.function.arguments),
            )
            for i, c in enumerate(msg.tool_calls or ())
        )
        u = completion.usage
        usage = priced_usage(self.price, (u.prompt_tokens or 0) if u else 0,
                             (u.completion_tokens or 0) if u else 0)
        return ModelResponse(
            message=Message(role="assistant", content=msg.content or "", tool_calls=calls),
            usage=usage,
            model=completion.model or self.model,
            finish_reason=choice.finish_reason,
        )

    async def aclose(self) -> None:
        await self._client.close()


def _arguments_text(arguments: Any) -> str:
    # Some compatible servers send an object instead of the JSON string the spec asks for.
    if arguments is None:
        return ""
    return arguments if isinstance(arguments, str) else json.dumps(arguments)
