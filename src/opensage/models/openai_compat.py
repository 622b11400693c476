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
    ToolSchema,
    not_a_reply,
    token_count,
    tool_calls_from_wire,
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

        async def once() -> str:
            try:
                # The raw body: this adapter reads it itself, so that a 200 answer which is not
                # a chat completion is reported as such rather than as a parser's exception.
                raw = await self._client.chat.completions.with_raw_response.create(**kwargs)
            except self._sdk.OpenAIError as exc:
                raise map_sdk_error(
                    self._sdk, exc, model=self.model, endpoint=self.base_url
                ) from exc
            return str(raw.text)

        return self._parse(await with_retries(once, self.retry))

    def _parse(self, body: str) -> ModelResponse:
        data, choice, msg = self._completion(body)
        u = data["usage"] if isinstance(data.get("usage"), dict) else {}
        usage = priced_usage(self.price,
                             token_count(u.get("prompt_tokens"), "prompt_tokens", self.base_url),
                             token_count(u.get("completion_tokens"), "completion_tokens",
                                         self.base_url))
        calls = tool_calls_from_wire(_wire_call(c) for c in msg.get("tool_calls") or ())
        return ModelResponse(
            message=Message(role="assistant", content=_content_text(msg.get("content")),
                            tool_calls=calls),
            usage=usage,
            model=data["model"] if isinstance(data.get("model"), str) else self.model,
            finish_reason=_text_or_none(choice.get("finish_reason")),
        )

    def _completion(self, body: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """The completion, its first choice and that choice's message; or the error saying that
        the body is not a chat completion."""
        data = _json_object(body)
        choices = data.get("choices")
        if choices == []:
            raise ModelError(f"{self.base_url} returned no choices for model {self.model!r}")
        choice = choices[0] if isinstance(choices, list) else None
        msg = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(choice, dict) or not isinstance(msg, dict) \
                or not isinstance(msg.get("tool_calls"), list | None):
            raise not_a_reply(self.base_url, "a chat completion", body)
        return data, choice, msg

    async def aclose(self) -> None:
        await self._client.close()


def _json_object(body: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _wire_call(call: Any) -> tuple[Any, Any, Any]:
    call = call if isinstance(call, dict) else {}
    function = call.get("function") if isinstance(call.get("function"), dict) else {}
    return call.get("id"), function.get("name"), function.get("arguments")


def _content_text(content: Any) -> str:
    """The reply's text: a string, or (some servers) a list of text parts."""
    if isinstance(content, list):
        return "".join(p["text"] for p in content
                       if isinstance(p, dict) and isinstance(p.get("text"), str))
    return content if isinstance(content, str) else ""


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
