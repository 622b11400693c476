"""What the adapters over an official SDK (`openai`, `anthropic`) share, so that each keeps
only its wire format.

Both SDKs are Stainless clients of one shape: a client taking base_url, api_key, timeout and
max_retries, a `with_raw_response` request, one root exception class. This base builds the
client with the SDK's own retries off (`with_retries` gives every provider the same policy and
lets the agent log each retry), sends the request, turns SDK exceptions into `ModelError`s, and
reads the raw body itself, so that a 200 answer which is not the API's reply (a proxy's page,
another API) is reported as such rather than as a parser's exception.
"""

from __future__ import annotations

import importlib
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from opensage.models.base import (
    Message,
    ModelError,
    ModelResponse,
    ModelSettings,
    ToolSchema,
    Usage,
    not_a_reply,
    token_count,
)
from opensage.models.pricing import Price, priced_usage
from opensage.models.retry import RetryPolicy, with_retries
from opensage.models.sdk_errors import map_sdk_error


class SdkModel(ABC):
    """A `Model` over an official SDK. A subclass names its SDK and writes the wire format: the
    request's messages, tools, sampling and limits, the raw request, and the reading of a
    reply."""

    provider: ClassVar[str]  # the spec prefix: the name is "{provider}:{model}" unless given
    sdk_module: ClassVar[str]  # imported when a model is made: an SDK takes ~0.3 s to import
    sdk_client: ClassVar[str]  # the SDK's async client class
    sdk_error: ClassVar[str]  # the root of the SDK's exceptions
    reply_kind: ClassVar[str]  # what a reply is called when a body is not one
    default_base_url: ClassVar[str | None] = None  # None: the SDK's own default
    placeholder_key: ClassVar[str | None] = None  # for an SDK that insists on some key
    # The usage fields counted as input (each is priced as input) and the one counted as output.
    input_token_fields: ClassVar[tuple[str, ...]]
    output_token_field: ClassVar[str]

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
        """`extra_body`: request fields the SDK does not know, sent as they are (a server's own
        sampling options, say)."""
        self.model = model
        self.extra_body = extra_body
        self.retry = retry or RetryPolicy()
        self.price = price
        self._spec = spec or f"{self.provider}:{model}"
        self._sdk = importlib.import_module(self.sdk_module)
        base_url = base_url or self.default_base_url
        self._client: Any = getattr(self._sdk, self.sdk_client)(
            base_url=base_url,
            api_key=api_key or self.placeholder_key,
            timeout=timeout_s,
            max_retries=0,
        )
        # The endpoint as given, else the one the SDK chose (its default or its variable).
        self.base_url = base_url or str(self._client.base_url)

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
        body: dict[str, Any] = {"model": self.model, **self._wire_messages(messages)}
        if tools:
            body["tools"] = self._wire_tools(tools)
            body["tool_choice"] = self._wire_tool_choice(settings.tool_choice)
        body.update(self._wire_options(settings))
        if self.extra_body:
            body["extra_body"] = self.extra_body
        return self._parse(await with_retries(lambda: self._send(body), self.retry))

    async def _send(self, body: dict[str, Any]) -> str:
        try:
            return await self._post(body)
        except getattr(self._sdk, self.sdk_error) as exc:
            raise map_sdk_error(self._sdk, exc, model=self.model, endpoint=self.base_url) from exc

    def _parse(self, body: str) -> ModelResponse:
        reply = _json_object(body)
        message, finish_reason = self._read(reply, body)
        return ModelResponse(
            message=message,
            usage=self._usage(reply.get("usage")),
            model=reply["model"] if isinstance(reply.get("model"), str) else self.model,
            finish_reason=finish_reason if isinstance(finish_reason, str) else None,
        )

    def _usage(self, reported: Any) -> Usage:
        """The reply's usage, priced; a count that is not one is refused (see `token_count`)."""
        u = reported if isinstance(reported, dict) else {}
        input_tokens = sum(token_count(u.get(k), k, self.base_url) for k in self.input_token_fields)
        output = self.output_token_field
        return priced_usage(
            self.price, input_tokens, token_count(u.get(output), output, self.base_url)
        )

    def _not_a_reply(self, body: str) -> ModelError:
        return not_a_reply(self.base_url, self.reply_kind, body)

    async def aclose(self) -> None:
        await self._client.close()

    # --- the wire format ----------------------------------------------------------------------

    @abstractmethod
    def _wire_messages(self, messages: Sequence[Message]) -> dict[str, Any]:
        """The request's fields that carry the conversation."""

    @abstractmethod
    def _wire_tools(self, tools: Sequence[ToolSchema]) -> list[dict[str, Any]]: ...

    @abstractmethod
    def _wire_tool_choice(self, choice: str) -> Any:
        """`ModelSettings.tool_choice` ("auto", "required", "none" or a tool's name)."""

    @abstractmethod
    def _wire_options(self, settings: ModelSettings) -> dict[str, Any]:
        """The request's remaining fields: the sampling settings and output limit."""

    @abstractmethod
    async def _post(self, body: dict[str, Any]) -> str:
        """Send the request through the SDK's raw-response call; the body as text."""

    @abstractmethod
    def _read(self, reply: dict[str, Any], body: str) -> tuple[Message, Any]:
        """The assistant message and the finish reason as sent, from the reply ({} when the
        body is not a JSON object); raises `self._not_a_reply(body)` when it is not one."""


def _json_object(body: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
