"""The agent loop: ask the model, run the tools it calls, repeat until `finish` or a limit.

Each stop is an exception that carries its reason and message (finished, a budget limit, too many
malformed calls in a row, a model that keeps failing), so the loop body reads as the happy path.
Every step is written to the event log as it happens; the log is committed whenever the loop is
about to wait on the model or on tools, which is what makes a killed run resumable.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from opensage.core.aio import on_first_wait, until
from opensage.core.budget import Budget, BudgetExceeded, Limits
from opensage.core.context import RunContext
from opensage.core.replies import checked
from opensage.core.tools import Tool, ToolOutcome, Toolset, truncate
from opensage.errors import ConfigError
from opensage.models.base import Message, Model, ModelResponse, ModelSettings, ToolCall, Usage


async def finish(answer: str) -> str:  # async: a sync tool would be sent to a thread
    """Finish the task and give the final answer. Call this once the task is done.

    Args:
        answer: the final answer or a summary of what was done.
    """
    return answer


FINISH = Tool(finish)
INTERRUPTED = (
    "The run was interrupted before this tool call finished, so its effect is unknown. "
    "Check the state before calling it again."
)


@dataclass(frozen=True)
class AgentOptions:
    """How an agent is run, beyond its instructions, tools and model: the one definition of
    these options. `Agent` takes them, a run records them, and a resumed run gets them back."""

    settings: ModelSettings = field(default_factory=ModelSettings)
    # When False, a reply with text and no tool call is the final answer; when True the model is
    # told to call finish, and the reply counts as a malformed turn.
    require_finish: bool = False
    max_format_errors: int = 3  # malformed turns in a row before the run stops
    tool_timeout_s: float | None = 600.0
    # Fold older steps into a summary once the context passes this many tokens (the composition
    # root gives the loop a compactor for it).
    compact_at_tokens: int | None = None
    # The tools the model must call at its first steps, one per step, in order (each request
    # forces its tool by name): a fixed start for models too small to choose one, e.g.
    # ("run_tests", "view"). After them the model chooses.
    opening: tuple[str, ...] = ()


@dataclass
class AgentConfig:
    """What makes an agent: its instructions, tools and model, and how strictly it is run."""

    name: str
    model: Model
    instructions: str = ""
    tools: Toolset = field(default_factory=Toolset)
    options: AgentOptions = field(default_factory=AgentOptions)
    max_output_chars: int = 16_000  # a tool output longer than this is cut for the model
    # Called before each model request; may fold older steps into a summary (see `fold`).
    compactor: Callable[[AgentLoop], Awaitable[None]] | None = None

    def __post_init__(self) -> None:
        if "finish" not in self.tools:
            self.tools.add(FINISH)
        if missing := [n for n in self.options.opening if n not in self.tools]:
            raise ConfigError(
                f"the agent {self.name!r} is to open with {', '.join(missing)}, which it does "
                f"not have; its tools: {', '.join(self.tools.names)}"
            )


@dataclass
class RunResult:
    answer: str | None
    run_id: str
    stop_reason: str  # finished | max_steps | max_tokens | max_cost | max_time | format_errors
    #                   | model_error | cancelled
    message: str  # why it stopped, for people
    usage: Usage
    steps: int
    agent: str

    @property
    def ok(self) -> bool:
        return self.stop_reason == "finished"

    def to_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "run_id": self.run_id,
            "stop_reason": self.stop_reason,
            "message": self.message,
            "usage": self.usage.to_dict(),
            "steps": self.steps,
            "agent": self.agent,
        }


class Stop(Exception):
    reason = "stopped"

    def __init__(self, message: str, answer: str | None = None):
        super().__init__(message)
        self.answer = answer


class Finished(Stop):
    reason = "finished"


class TooManyFormatErrors(Stop):
    reason = "format_errors"


class ModelFailed(Stop):
    reason = "model_error"


class AgentLoop:
    """Runs one agent's conversation in a run (`ctx`). Make one per run of an agent."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        ctx: RunContext,
        budget: Budget,
        parent_event: int | None = None,
        depth: int = 0,
    ):
        self.config = config
        self.depth = depth  # 0 for the run's root agent, 1 for its sub-agents, ...
        # Work this agent started that may outlive a tool call (background sub-agents): it is
        # cancelled when the agent finishes, however it finishes.
        self.background: set[asyncio.Task[Any]] = set()
        self.ctx = ctx  # its tools get a copy for each call (`RunContext.for_call`)
        self.log = ctx.log
        self.run_id = ctx.run_id
        self.budget = budget
        self.parent_event = parent_event
        # The conversation as the model sees it (its view): the stored conversation, except
        # where older steps were folded into a summary. Each message's position in the stored
        # conversation and the event that produced it are kept alongside.
        self.messages: list[Message] = []
        self.view_seqs: list[int] = []
        self.view_events: list[int | None] = []
        self.stored = 0  # messages stored in this conversation (the next one's position)
        self.view_chars = 0  # a running size of the view, for the token estimate
        self.last_input_tokens = 0
        self.compaction: int | None = None  # the context_compacted event shaping the view
        self.usage = Usage()  # this agent's own model calls, side requests included
        # The agents it started, theirs included (and, once resumed, everything recorded before
        # the resume that was not a step of its own conversation).
        self.child_usage = Usage()
        self.steps = 0
        self.conv = 0  # the agent_started event: this conversation's id in the log
        self.format_errors = 0
        self._response_event: int | None = None  # parent of the tool calls of this step
        self._schemas = config.tools.schemas

    async def run_child(
        self,
        config: AgentConfig,
        task: str,
        *,
        parent_event: int,
        limits: Limits | None = None,
        ctx: RunContext | None = None,
    ) -> RunResult:
        """Run another agent on `task` inside this agent's run: its events hang under
        `parent_event`, its budget is a child of this one's, and its usage counts in this one's.
        It works in `ctx` (an ensemble member's: on its copy of the work dir), by default this
        agent's. It never raises for the child's sake: a crash comes back as a result."""
        budget = self.budget.child(limits, name=config.name)
        child = AgentLoop(
            config,
            ctx=ctx or self.ctx,
            budget=budget,
            parent_event=parent_event,
            depth=self.depth + 1,
        )
        try:
            budget.check()  # an exhausted ancestor refuses before anything starts
            result = await child.run(task)
        except asyncio.CancelledError:
            self.child_usage.add(child.total_usage())  # what it spent still counts
            raise
        except BudgetExceeded as exc:
            result = child._finish(exc)
        except Exception as exc:  # a crashing child never takes the run down
            result = child._finish(
                Stop(f"the agent crashed: {type(exc).__name__}: {exc}"), reason="error"
            )
        self.child_usage.add(result.usage)
        return result

    def add_tool(self, tool: Tool) -> None:
        """Give this agent a tool mid-run (one it wrote or found); it replaces a tool of the
        same name, and the model sees it from its next request on."""
        self.config.tools.replace(tool)
        self._schemas = self.config.tools.schemas

    # --- entry points -------------------------------------------------------------------------

    async def run(self, task: str) -> RunResult:
        c = self.config
        self.conv = self._emit(
            "agent_started",
            {"name": c.name, "model": c.model.name, "tools": c.tools.names},
            parent=self.parent_event,
        )
        if c.instructions:
            self._append(Message("system", c.instructions), self.conv)
        self._append(Message("user", task), self.conv)
        return await self._run()

    async def resume(self, conv: int) -> RunResult:
        """Continue a conversation recorded in the log, e.g. after the process was killed. What
        the run spent before (its steps, its sub-agents', its side requests) counts in this
        agent's usage as it was recorded. An agent that had already finished (the process was
        killed at the run's end) is not asked anything again."""
        self.conv = conv
        self._rebuild_view()
        self._count_recorded()
        ended = [e for e in self.log.events(self.run_id, ("agent_finished",)) if e.parent == conv]
        if ended and ended[-1].data["stop_reason"] != "cancelled":
            d = ended[-1].data
            return RunResult(
                answer=d["answer"],
                run_id=self.run_id,
                stop_reason=d["stop_reason"],
                message=d["message"],
                usage=self.total_usage(),
                steps=self.steps,
                agent=self.config.name,
            )
        self._emit(
            "agent_resumed", {"steps": self.steps, "messages": len(self.messages)}, parent=conv
        )
        last = self.messages[-1] if self.messages else None
        if last is not None and last.role == "assistant":
            # Killed between the model's reply and its tools' results: answer every call.
            if not last.tool_calls:
                nudge = self._nudge(last)
                if nudge is None:
                    return self._finish(Finished(last.content, answer=last.content))
                self._append(nudge, None)
                return await self._run()
            answer = next((_finish_answer(c) for c in last.tool_calls if c.name == "finish"), None)
            for call in last.tool_calls:
                text = "ok" if call.name == "finish" else INTERRUPTED
                self._append(
                    Message(
                        "tool",
                        text,
                        tool_call_id=call.id,
                        name=call.name,
                        is_error=call.name != "finish",
                    ),
                    None,
                )
            if answer is not None:
                return self._finish(
                    Finished("finished (recorded before the interruption)", answer=answer)
                )
        return await self._run()

    def _count_recorded(self) -> None:
        """Steps and usage from the log: the steps of this conversation are this agent's; every
        other model response of the run (sub-agents', side requests') counts as its children's.
        A step's request hangs under its conversation; a response under its request."""
        recorded = self.log.events(self.run_id, ("model_request", "model_response"))
        steps = {
            e.id
            for e in recorded
            if e.kind == "model_request" and e.parent == self.conv and "purpose" not in e.data
        }
        for ev in recorded:
            if ev.kind != "model_response":
                continue
            usage = Usage.from_dict(ev.data["usage"])
            if ev.parent in steps:
                self.steps += 1
                self.usage.add(usage)
            else:
                self.child_usage.add(usage)

    # --- the loop -----------------------------------------------------------------------------

    async def _run(self) -> RunResult:
        try:
            stop = await self._steps()
        except asyncio.CancelledError:
            await self._end_background()
            self._finish(Stop("the run was cancelled"), reason="cancelled")
            raise
        await self._end_background()  # first, so their ends (and costs) come before this one
        return self._finish(stop)

    async def _end_background(self) -> None:
        """Cancel the work this agent started in the background, and let it record its end."""
        for task in self.background:
            task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)

    async def _steps(self) -> Stop | BudgetExceeded:
        """Step until something stops this agent; returns what did."""
        try:
            while True:
                self.budget.check()
                self.log.commit_if_due()
                reply = (await self._ask_model()).message
                if not reply.tool_calls:
                    nudge = self._nudge(reply)
                    if nudge is None:
                        raise Finished(
                            "the model answered without calling a tool", answer=reply.content
                        )
                    self._malformed_turn()
                    self._append(nudge, None)
                    continue
                answer = await self._run_tools(reply.tool_calls)
                if answer is not None:
                    raise Finished("the model called finish", answer=answer)
        except (Stop, BudgetExceeded) as stop:
            return stop

    def _nudge(self, reply: Message) -> Message | None:
        """What to tell a model whose reply called no tool, or None if the reply is the answer.
        An empty reply is never an answer: it is a malformed turn, like a malformed call."""
        if not reply.content.strip():
            return Message("user", "Your reply was empty. Answer the task, or call a tool.")
        if self.config.options.require_finish:
            return Message("user", "Call a tool, or call finish(answer) if the task is done.")
        return None

    async def _ask_model(self) -> ModelResponse:
        if self.config.compactor is not None:
            await self.config.compactor(self)
            self.budget.check()  # a summary it asked for may have spent the last of it
        request = self._emit(
            "model_request",
            {
                "step": self.steps + 1,
                "conv": self.conv,
                "upto": self.stored,
                "view": self.compaction,
            },
            parent=self.conv,
        )
        settings, opening = self.config.options.settings, self.config.options.opening
        if self.steps < len(opening):
            settings = replace(settings, tool_choice=opening[self.steps])
        request_model = self.config.model.request(self.messages, self._schemas, settings)
        try:
            response = checked(
                await until(self.budget.deadline, on_first_wait(request_model, self.log.commit))
            )
        except TimeoutError as exc:
            self._emit(
                "model_error", {"error": "TimeoutError", "message": str(exc)}, parent=request
            )
            self.budget.check()  # the wall-time limit ran out: raises BudgetExceeded
            raise ModelFailed(f"the model request timed out: {exc}") from exc
        except Exception as exc:  # any model failure ends this agent, never the process
            self._emit(
                "model_error", {"error": type(exc).__name__, "message": str(exc)}, parent=request
            )
            raise ModelFailed(f"the model failed: {exc}") from exc
        self.steps += 1
        usage = response.usage
        self.usage.add(usage)
        self.last_input_tokens = usage.input_tokens
        event = self._emit(
            "model_response",
            {
                "step": self.steps,
                "usage": usage.to_dict(),
                "finish_reason": response.finish_reason,
                "model": response.model,
            },
            parent=request,
        )
        self._append(response.message, event)
        self.budget.charge(steps=1, tokens=usage.total_tokens, cost_usd=usage.cost_usd)
        self._emit(
            "budget_charge",
            {
                "budget": self.budget.name,
                "steps": 1,
                "tokens": usage.total_tokens,
                "cost_usd": usage.cost_usd,
            },
            parent=event,
        )
        self._response_event = event
        return response

    async def _run_tools(self, calls: tuple[ToolCall, ...]) -> str | None:
        """Run the calls (concurrently when several); returns finish's answer if it was called."""
        events = [
            self._emit("tool_call", {"call_id": c.id, "name": c.name}, parent=self._response_event)
            for c in calls
        ]
        tools, timeout = self.config.tools, self.config.options.tool_timeout_s

        async def run_one(c: ToolCall, event: int) -> ToolOutcome:
            # Each call its own context, made only for the tools that ask for it.
            t = tools.get(c.name)
            ctx = self.ctx.for_call(self, event) if t is not None and t.takes_context else None
            return await tools.call(c, timeout, ctx)

        running: Awaitable[list[ToolOutcome]] = (
            _single(run_one(calls[0], events[0]))
            if len(calls) == 1
            else asyncio.gather(*(run_one(c, e) for c, e in zip(calls, events, strict=True)))
        )
        try:
            outcomes = await until(self.budget.deadline, on_first_wait(running, self.log.commit))
        except TimeoutError:  # the run's wall-time limit; the check at the loop's top stops it
            outcomes = [
                ToolOutcome("Stopped: the run's time limit ran out.", error="timeout")
                for _ in calls
            ]
        answer = None
        for call, event, outcome in zip(calls, events, outcomes, strict=True):
            self._record_result(call, event, outcome)
            if call.name == "finish" and outcome.ok:
                answer = outcome.value
        if all(o.format_error for o in outcomes):
            self._malformed_turn()
        else:
            self.format_errors = 0
        return answer

    def _record_result(self, call: ToolCall, parent: int, outcome: ToolOutcome) -> None:
        text, limit = outcome.text, self.config.max_output_chars
        data: dict[str, Any] = {
            "call_id": call.id,
            "name": call.name,
            "ok": outcome.ok,
            "error": outcome.error,
            "duration_s": round(outcome.duration_s, 6),
            "chars": len(text),
        }
        if len(text) > limit:
            data["full_output"] = text  # the message gets the cut version; keep it all here
        event = self._emit("tool_result", data, parent=parent)
        shown = (
            truncate(text, limit, f"; the full output is event {event}")
            if len(text) > limit
            else text
        )
        self._append(
            Message("tool", shown, tool_call_id=call.id, name=call.name, is_error=not outcome.ok),
            event,
        )

    def _malformed_turn(self) -> None:
        self.format_errors += 1
        limit = self.config.options.max_format_errors
        if self.format_errors >= limit:
            raise TooManyFormatErrors(
                f"{self.format_errors} malformed turns in a row (limit {limit})"
            )

    def total_usage(self) -> Usage:
        total = Usage()
        total.add(self.usage)
        total.add(self.child_usage)
        return total

    def _finish(self, stop: Stop | BudgetExceeded, reason: str | None = None) -> RunResult:
        answer = stop.answer if isinstance(stop, Stop) else None
        result = RunResult(
            answer=answer,
            run_id=self.run_id,
            stop_reason=reason or stop.reason,
            message=str(stop),
            usage=self.total_usage(),
            steps=self.steps,
            agent=self.config.name,
        )
        self._emit(
            "agent_finished",
            {
                "stop_reason": result.stop_reason,
                "message": result.message,
                "answer": answer,
                "usage": result.usage.to_dict(),
                "steps": self.steps,
            },
            parent=self.conv or self.parent_event,
        )  # no conversation if it never began
        return result

    # --- helpers ------------------------------------------------------------------------------

    def _emit(self, kind: str, data: dict[str, Any], *, parent: int | None) -> int:
        return self.log.emit(self.run_id, kind, data, parent=parent, agent=self.config.name)

    def _append(self, message: Message, event: int | None) -> None:
        self.log.add_message(self.run_id, self.conv, self.stored, message, event)
        self.messages.append(message)
        self.view_seqs.append(self.stored)
        self.view_events.append(event)
        self.view_chars += _size(message)
        self.stored += 1

    # --- compaction ---------------------------------------------------------------------------

    @property
    def prefix(self) -> int:
        """How many leading messages (instructions, task) are never folded."""
        return 1 + (bool(self.messages) and self.messages[0].role == "system")

    def context_tokens(self) -> int:
        """The view's size in tokens: what the model last reported, or about 4 characters a
        token for what was added since."""
        return max(self.last_input_tokens, self.view_chars // 4)

    def fold(self, cut: int, summary: str, data: dict[str, Any] | None = None) -> None:
        """Replace the view's messages from the prefix up to `cut` (exclusive) by `summary`.
        The stored conversation keeps them all; the fold is an event, and the summary a new
        stored message, so the view can be rebuilt (on resume) and traced."""
        start = self.prefix
        covered = [e for e in self.view_events[start:cut] if e is not None]
        summary_seq = self.stored
        keep = slice(cut, None)
        view_seqs = [*self.view_seqs[:start], summary_seq, *self.view_seqs[keep]]
        # The view's positions are recorded whole: after a fold they are not in order (the
        # summary is stored last but read first), and resuming must rebuild exactly this view.
        event = self._emit(
            "context_compacted",
            {"summary_seq": summary_seq, "view_seqs": view_seqs, "events": covered, **(data or {})},
            parent=self.conv,
        )
        span = f", events {min(covered)}-{max(covered)} of this run" if covered else ""
        note = Message(
            "user",
            f"[Summary of earlier steps{span}; the full record is in the run's log]\n{summary}",
        )
        self.log.add_message(self.run_id, self.conv, summary_seq, note, event)
        self.messages = [*self.messages[:start], note, *self.messages[keep]]
        self.view_seqs = view_seqs
        self.view_events = [*self.view_events[:start], event, *self.view_events[keep]]
        self.view_chars = sum(_size(m) for m in self.messages)
        self.last_input_tokens = 0  # the next reply reports the folded size
        self.stored += 1
        self.compaction = event

    def _rebuild_view(self) -> None:
        """The view of a resumed conversation: the stored one, with its latest fold applied."""
        stored = self.log.conversation(self.run_id, self.conv)
        folds = [
            e for e in self.log.events(self.run_id, ("context_compacted",)) if e.parent == self.conv
        ]
        seqs = list(range(len(stored)))
        if folds:  # the view at the latest fold, then whatever was stored after it
            d = folds[-1].data
            seqs = [*d["view_seqs"], *range(d["summary_seq"] + 1, len(stored))]
            self.compaction = folds[-1].id
        self.messages = [stored[i] for i in seqs]
        self.view_seqs = seqs
        self.view_events = [None] * len(seqs)
        self.view_chars = sum(_size(m) for m in self.messages)
        self.stored = len(stored)


def _size(message: Message) -> int:
    return len(message.content) + sum(len(c.arguments) + len(c.name) for c in message.tool_calls)


async def _single(call: Awaitable[ToolOutcome]) -> list[ToolOutcome]:
    return [await call]


def _finish_answer(call: ToolCall) -> str | None:
    try:
        return str(FINISH.parse_arguments(call.arguments)["answer"])
    except Exception:
        return None
