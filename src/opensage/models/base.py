"""The `Model` protocol and the message types every provider adapter speaks.

A model is anything with `async request(messages, tools, settings) -> ModelResponse`. Messages are
plain slotted dataclasses, not pydantic models: the agent loop creates several per step and the
loop's per-step overhead budget is tens of microseconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(slots=True, frozen=True)
class ToolCall:
    """A tool call as the model emitted it; `arguments` is the raw JSON text, unparsed, so that a
    malformed call can be reported back to the model verbatim."""

    id: str
    name: str
    arguments: str


@dataclass(slots=True, frozen=True)
class Message:
    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None  # role == "tool": which call this answers
    name: str | None = None  # role == "tool": the tool's name
    is_error: bool = False  # role == "tool": the result is an error report

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            d["tool_calls"] = [
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in self.tool_calls
            ]
        if self.tool_call_id is not None:
            d["tool_call_id"] = self.tool_call_id
        if self.name is not None:
            d["name"] = self.name
        if self.is_error:
            d["is_error"] = True
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Message:
        return cls(
            role=d["role"],
            content=d.get("content") or "",
            # Text whatever was stored: a log written before replies were checked may hold a
            # call whose name is null, and resuming that run must not break on it.
            tool_calls=tuple(
                ToolCall(
                    _as_text(c.get("id")), _as_text(c.get("name")), _as_text(c.get("arguments"))
                )
                for c in d.get("tool_calls") or ()
            ),
            tool_call_id=d.get("tool_call_id"),
            name=d.get("name"),
            is_error=bool(d.get("is_error", False)),
        )


def tool_calls_from_wire(calls: Iterable[tuple[Any, Any, Any]]) -> tuple[ToolCall, ...]:
    """Tool calls as a model sent them, as (id, name, arguments), made safe to store, answer and
    send back. A missing or repeated id gets a fresh one, since each result must answer exactly
    one call; a missing or non-text name becomes text, so that the call is answered as an
    unknown tool instead of breaking the loop; arguments sent as an object (some servers do)
    become their JSON text."""
    out: list[ToolCall] = []
    seen: set[str] = set()
    for i, (cid, name, arguments) in enumerate(calls):
        if not isinstance(cid, str) or not cid or cid in seen:
            cid = _fresh_id(cid if isinstance(cid, str) and cid else "call", i, seen)
        seen.add(cid)
        out.append(ToolCall(cid, _as_text(name), _as_text(arguments)))
    return tuple(out)


def _fresh_id(base: str, index: int, taken: set[str]) -> str:
    cid = f"{base}_{index}"
    while cid in taken:
        cid += "_"
    return cid


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value, default=str)


def token_count(value: Any, field: str, endpoint: str) -> int:
    """A token count an endpoint reported (None: not reported). A negative or non-numeric count
    is refused, not trusted: it would let the run spend past its token limit."""
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ModelError(
        f"the endpoint at {endpoint} reported {field} = {value!r}, which is not a "
        "token count (a whole number, 0 or more): the server is broken or does not "
        "speak this API. Check the server or the base URL."
    )


def not_a_reply(endpoint: str, what: str, body: str) -> ModelError:
    """The error for a 200 answer that is not the API's reply (a proxy's page, another API)."""
    return ModelError(
        f"the endpoint at {endpoint} answered with something that is not {what}: "
        f"{body[:200]!r}. Check that the base URL points at the API itself."
    )


@dataclass(slots=True)
class Usage:
    """Tokens and money spent. `unpriced` counts requests to models with no known price: their
    tokens are counted, their cost is not (so a cost limit cannot see them)."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    unpriced: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def add(self, other: Usage) -> None:
        self.requests += other.requests
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cost_usd += other.cost_usd
        self.unpriced += other.unpriced

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "total_tokens": self.total_tokens,
            "cost_usd": round(self.cost_usd, 8),
            "unpriced": self.unpriced,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Usage:
        return cls(
            requests=int(d.get("requests", 0)),
            input_tokens=int(d.get("input_tokens", 0)),
            output_tokens=int(d.get("output_tokens", 0)),
            cost_usd=float(d.get("cost_usd", 0.0)),
            unpriced=int(d.get("unpriced", 0)),
        )


@dataclass(slots=True, frozen=True)
class ToolSchema:
    """What the model is told about a tool: its name, description and JSON-schema parameters."""

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(slots=True, frozen=True)
class ModelSettings:
    temperature: float | None = None
    max_output_tokens: int | None = None
    # "auto" (default), "required" (some tool), "none", or the name of one tool to force.
    tool_choice: str = "auto"


@dataclass(slots=True)
class ModelResponse:
    message: Message  # role == "assistant"
    usage: Usage = field(default_factory=Usage)
    model: str = ""
    finish_reason: str | None = None


@runtime_checkable
class Model(Protocol):
    """The whole provider contract."""

    @property
    def name(self) -> str:
        """The model spec, e.g. `openai:gpt-5-mini`; recorded in the event log."""
        ...

    async def request(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSchema],
        settings: ModelSettings | None = None,
    ) -> ModelResponse: ...

    async def aclose(self) -> None:
        """Release connections or child processes; safe to call twice."""
        ...


# --- Errors -----------------------------------------------------------------------------------


class ModelError(Exception):
    """A model request failed. `retryable` errors are retried with backoff before surfacing."""

    retryable = False

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class ModelAuthError(ModelError):
    """The endpoint refused the API key."""


class ModelNotFoundError(ModelError):
    """The endpoint does not know the model."""


class ModelBadRequestError(ModelError):
    """The endpoint rejected the request (e.g. context too long)."""


class ModelUnreachableError(ModelError):
    """No connection could be made to the endpoint."""

    retryable = True


class ModelRateLimitError(ModelError):
    retryable = True


class ModelServerError(ModelError):
    retryable = True


class ModelTimeoutError(ModelError):
    retryable = True
