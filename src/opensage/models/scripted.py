"""A test model that replays a script of responses: text, tool calls, or raised errors.

Build one in Python:

    model = ScriptedModel([
        tool_call("add", a=1, b=2),
        tool_call("finish", answer="3"),
    ])

or load one from JSON (`scripted:FILE.json`): a list of steps, or `{"steps": [...]}`. A step is
a string (assistant text) or an object with any of
  "text", "tool_calls": [{"name", "arguments": {...} | "raw json text", "id"?}],
  "raise": "rate_limit" | "server" | "timeout" | "auth" | "not_found" | "unreachable" | "error",
  "message", "retry_after", "usage": {"input_tokens", "output_tokens"}, "delay_s".
In Python a step may also be a `ModelResponse`, an exception instance, or a function
`(messages, tools) -> step` that computes the reply from what the model was sent.

Asked for more steps than the script has, it raises `ScriptExhaustedError`; `unused` and
`assert_exhausted()` report steps that were never asked for.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opensage.models.base import (
    Message,
    ModelAuthError,
    ModelError,
    ModelNotFoundError,
    ModelRateLimitError,
    ModelResponse,
    ModelServerError,
    ModelSettings,
    ModelTimeoutError,
    ModelUnreachableError,
    ToolSchema,
    tool_calls_from_wire,
)
from opensage.models.pricing import Price, priced_usage

Step = Any  # str | dict | ModelResponse | BaseException | Callable[[messages, tools], Step]

_ERRORS: dict[str, type[ModelError]] = {
    "rate_limit": ModelRateLimitError,
    "server": ModelServerError,
    "timeout": ModelTimeoutError,
    "auth": ModelAuthError,
    "not_found": ModelNotFoundError,
    "unreachable": ModelUnreachableError,
    "error": ModelError,
}


class ScriptExhaustedError(ModelError):
    """The script has no step left for this request."""


def tool_call(name: str, _id: str | None = None, **arguments: Any) -> dict[str, Any]:
    """A step with one tool call; pass several dicts' calls via `{"tool_calls": [...]}`."""
    call: dict[str, Any] = {"name": name, "arguments": arguments}
    if _id is not None:
        call["id"] = _id
    return {"tool_calls": [call]}


class ScriptedModel:
    def __init__(
        self,
        steps: Sequence[Step],
        *,
        name: str = "scripted",
        price: Price | None = (0.0, 0.0),
    ):
        self.steps = list(steps)
        self.position = 0
        # What each request was sent, kept as (the caller's list, its length then): the loop's
        # history only grows, so slicing later gives exactly what was sent without copying the
        # whole history on every step.
        self._sent: list[tuple[Sequence[Message], int]] = []
        self.price = price
        self._name = name

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedModel:
        p = Path(path)
        try:
            data = json.loads(p.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ModelError(f"cannot load scripted model from {p}: {exc}") from exc
        steps = data["steps"] if isinstance(data, dict) else data
        if not isinstance(steps, list):
            raise ModelError(f'{p}: expected a list of steps or {{"steps": [...]}}')
        return cls(steps, name=f"scripted:{p}")

    @property
    def name(self) -> str:
        return self._name

    @property
    def requests(self) -> list[list[Message]]:
        """The messages of each request, in order, for assertions."""
        return [list(messages[:n]) for messages, n in self._sent]

    @property
    def unused(self) -> list[Step]:
        return self.steps[self.position :]

    def fast_forward(self, steps_taken: int) -> None:
        """Skip the steps a resumed run already consumed before it was interrupted."""
        self.position = steps_taken

    def assert_exhausted(self) -> None:
        if self.unused:
            raise AssertionError(
                f"scripted model: {len(self.unused)} of {len(self.steps)} steps were never "
                f"requested, starting at step {self.position + 1}: {self.unused[0]!r}"
            )

    async def request(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSchema],
        settings: ModelSettings | None = None,
    ) -> ModelResponse:
        if self.position >= len(self.steps):
            last = messages[-1].content[:200] if messages else ""
            raise ScriptExhaustedError(
                f"scripted model has no step {self.position + 1} (the script has "
                f"{len(self.steps)}); last message: {last!r}"
            )
        step = self.steps[self.position]
        self.position += 1
        self._sent.append((messages, len(messages)))
        while callable(step) and not isinstance(step, type):
            step = step(messages, tools)
        if isinstance(step, dict) and step.get("delay_s"):
            await asyncio.sleep(float(step["delay_s"]))
        return self._respond(step)

    def _respond(self, step: Step) -> ModelResponse:
        if isinstance(step, ModelResponse):
            return step
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, str):
            step = {"text": step}
        if not isinstance(step, dict):
            raise ModelError(f"scripted step {self.position} has an unknown form: {step!r}")
        if "raise" in step:
            kind = _ERRORS.get(step["raise"], ModelError)
            raise kind(
                step.get("message", f"scripted {step['raise']} error"),
                retry_after=step.get("retry_after"),
            )
        # Through the same check as a real endpoint's reply, so a script can send what a broken
        # server would (a null name, a repeated id) and the loop sees it as it would then.
        calls = tool_calls_from_wire(
            (
                c.get("id") or f"call_{self.position}_{i}",
                c.get("name"),
                c.get("arguments") if "arguments" in c else {},
            )
            for i, c in enumerate(step.get("tool_calls") or ())
        )
        text = step.get("text", "")
        given = step.get("usage") or {}
        # A rough count (4 characters a token) keeps token limits meaningful in tests.
        guess = (len(text) + sum(len(c.arguments) for c in calls)) // 4
        usage = priced_usage(
            self.price, int(given.get("input_tokens", 0)), int(given.get("output_tokens", guess))
        )
        return ModelResponse(
            message=Message(role="assistant", content=text, tool_calls=calls),
            usage=usage,
            model=self._name,
            finish_reason="tool_calls" if calls else "stop",
        )

    async def aclose(self) -> None:
        return None


class FunctionModel(ScriptedModel):
    """A model whose every reply is computed by `fn(messages, tools)`: an endless script."""

    def __init__(
        self,
        fn: Callable[[Sequence[Message], Sequence[ToolSchema]], Step],
        *,
        name: str = "function",
    ):
        super().__init__([], name=name)
        self.fn = fn

    def fast_forward(self, steps_taken: int) -> None:
        """Nothing to skip: every reply is computed from what the model is sent."""

    async def request(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSchema],
        settings: ModelSettings | None = None,
    ) -> ModelResponse:
        self.steps.append(self.fn)
        return await super().request(messages, tools, settings)
