"""Any OpenAI-compatible Chat Completions endpoint, through the official `openai` SDK.

Covers OpenAI itself and the servers that copy its wire format (vLLM, llama.cpp, Ollama,
OpenRouter...). What is not the wire format (the client, retries, errors) is `SdkModel`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opensage.models.base import (
    Message,
    ModelError,
    ModelSettings,
    ToolSchema,
    tool_calls_from_wire,
)
from opensage.models.sdk_model import SdkModel

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def to_openai_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for m in messages:
        if m.role == "tool":
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content})
        elif m.role == "assistant" and m.tool_calls:
            out.append(
                {
                    "role": "assistant",
                    # "" rather than null: the spec allows both, some servers (llama.cpp) only "".
                    "content": m.content,
                    "tool_calls": [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments},
                        }
                        for c in m.tool_calls
                    ],
                }
            )
        else:
            out.append({"role": m.role, "content": m.content})
    return out


def to_openai_tools(tools: Sequence[ToolSchema]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
        }
        for t in tools
    ]


def to_openai_tool_choice(choice: str) -> Any:
    if choice in ("auto", "none", "required"):
        return choice
    return {"type": "function", "function": {"name": choice}}


class OpenAIModel(SdkModel):
    provider = "openai"
    sdk_module, sdk_client, sdk_error = "openai", "AsyncOpenAI", "OpenAIError"
    reply_kind = "a chat completion"
    default_base_url = DEFAULT_BASE_URL
    placeholder_key = "unused"  # a local server needs no key, but the SDK insists on one
    input_token_fields, output_token_field = ("prompt_tokens",), "completion_tokens"

    def _wire_messages(self, messages: Sequence[Message]) -> dict[str, Any]:
        return {"messages": to_openai_messages(messages)}

    def _wire_tools(self, tools: Sequence[ToolSchema]) -> list[dict[str, Any]]:
        return to_openai_tools(tools)

    def _wire_tool_choice(self, choice: str) -> Any:
        return to_openai_tool_choice(choice)

    def _wire_options(self, settings: ModelSettings) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if settings.temperature is not None:
            options["temperature"] = settings.temperature
        if settings.max_output_tokens is not None:
            options["max_tokens"] = settings.max_output_tokens
        return options

    async def _post(self, body: dict[str, Any]) -> str:
        raw = await self._client.chat.completions.with_raw_response.create(**body)
        return str(raw.text)

    def _read(self, reply: dict[str, Any], body: str) -> tuple[Message, Any]:
        choice, msg = self._first_choice(reply, body)
        calls = tool_calls_from_wire(_wire_call(c) for c in msg.get("tool_calls") or ())
        message = Message(
            role="assistant", content=_content_text(msg.get("content")), tool_calls=calls
        )
        return message, choice.get("finish_reason")

    def _first_choice(
        self, reply: dict[str, Any], body: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The completion's first choice and its message; or the error saying that the body is
        not a chat completion."""
        choices = reply.get("choices")
        if choices == []:
            raise ModelError(f"{self.base_url} returned no choices for model {self.model!r}")
        choice = choices[0] if isinstance(choices, list) else None
        msg = choice.get("message") if isinstance(choice, dict) else None
        if (
            not isinstance(choice, dict)
            or not isinstance(msg, dict)
            or not isinstance(msg.get("tool_calls"), list | None)
        ):
            raise self._not_a_reply(body)
        return choice, msg


def _wire_call(call: Any) -> tuple[Any, Any, Any]:
    call = call if isinstance(call, dict) else {}
    function = call.get("function") if isinstance(call.get("function"), dict) else {}
    return call.get("id"), function.get("name"), function.get("arguments")


def _content_text(content: Any) -> str:
    """The reply's text: a string, or (some servers) a list of text parts."""
    if isinstance(content, list):
        return "".join(
            p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    return content if isinstance(content, str) else ""
