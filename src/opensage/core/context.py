"""`RunContext`: what a run gives its kits and tools, typed, made once per run.

The composition root makes one when a run starts. Kits get it when they are set up; a tool gets
it when it asks by annotation (a parameter typed `RunContext`, left out of the tool's schema),
as a copy for its own call: `agent` is then the agent calling it and `event` its `tool_call`
event, so that what the tool records hangs under the call, and what it spends is charged to
the caller. Model calls outside an agent's conversation (a summary, a judge's verdict, curating
the memory) go through `side_request`, so that every model call of a run is charged, recorded
and counted, and a resumed run rebuilds its budget from what was really spent.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensage.core.aio import on_first_wait, until
from opensage.core.budget import Budget
from opensage.core.replies import checked
from opensage.models.base import Message, Model, ModelResponse, ModelSettings

if TYPE_CHECKING:
    from opensage.config import Config
    from opensage.core.events import EventLog
    from opensage.core.loop import AgentLoop
    from opensage.kits.base import Kit
    from opensage.sandbox.base import Sandbox


class RunShared:
    """What every copy of a run's context shares: the sandbox, opened on first use, and the
    run's root agent once it runs (see `RunContext.set_root`)."""

    __slots__ = ("_open_sandbox", "_sandbox", "root")

    def __init__(self, open_sandbox: Callable[[], Sandbox]):
        self._open_sandbox = open_sandbox
        self._sandbox: Sandbox | None = None
        self.root: RunContext | None = None

    def sandbox(self) -> Sandbox:
        if self._sandbox is None:
            self._sandbox = self._open_sandbox()
        return self._sandbox


@dataclass(frozen=True, slots=True)
class RunContext:
    """One run's context; copies of it (`for_call`, `with_workdir`) share its `shared` part."""

    config: Config
    run_id: str
    workdir: Path  # the work dir its tools act on: an ensemble member's copy, for its tools
    log: EventLog
    model: Model  # the run's model
    root_budget: Budget  # the run's budget: every agent's is a child of it
    shared: RunShared
    kits: tuple[Kit, ...] = ()  # the run's kits, in order
    # The names of the run's tools known when a kit is set up (those given in Python, then
    # those of the kits before it); None when they are not known, as when a kit adds tools as
    # the run goes (synthesis), so that no list is complete.
    tool_names: tuple[str, ...] | None = None
    model_names: tuple[str, ...] = ()  # model profiles and named models besides specs
    resolve_model: Callable[[str], Model] | None = None  # a spec or a name -> a model
    agent: AgentLoop | None = None  # the agent calling; None while kits are set up or down
    event: int | None = None  # the calling event: the parent of whatever is recorded

    # --- copies -------------------------------------------------------------------------------

    def for_call(self, agent: AgentLoop, event: int | None) -> RunContext:
        """This context for `agent`'s call recorded as `event`."""
        return replace(self, agent=agent, event=event)

    def with_workdir(self, workdir: Path) -> RunContext:
        """This context acting on another work dir (an ensemble member's copy)."""
        return replace(self, workdir=workdir)

    def set_root(self, agent: AgentLoop, event: int) -> None:
        """Name the run's root agent and its event. From then on, a context with no calling
        agent (a kit being torn down at the run's end) acts for it: what it records hangs
        under `event`, and what it spends counts in the root agent's usage and so the run's."""
        self.shared.root = self.for_call(agent, event)

    def _acting(self) -> RunContext:
        if self.agent is not None or self.shared.root is None:
            return self
        return self.shared.root

    # --- what a kit or a tool may use ---------------------------------------------------------

    def in_call(self) -> tuple[AgentLoop, int]:
        """The calling agent and its tool_call event, for a tool that acts on its caller."""
        if self.agent is None or self.event is None:
            raise RuntimeError(
                "this is not a tool call's context: only a tool call has a calling agent"
            )
        return self.agent, self.event

    def sandbox(self) -> Sandbox:
        """The run's sandbox, opened on first use: runs that never need one never open one."""
        return self.shared.sandbox()

    @property
    def budget(self) -> Budget:
        """The calling agent's budget, else the run's."""
        agent = self._acting().agent
        return agent.budget if agent is not None else self.root_budget

    def emit(self, kind: str, data: dict[str, Any]) -> int:
        """Record an event under the calling event, as the calling agent; returns its id."""
        acting = self._acting()
        name = acting.agent.config.name if acting.agent is not None else None
        return self.log.emit(self.run_id, kind, data, parent=acting.event, agent=name)

    async def side_request(
        self,
        messages: Sequence[Message],
        purpose: str,
        *,
        model: Model | None = None,
        settings: ModelSettings | None = None,
    ) -> ModelResponse:
        """Ask a model something outside an agent's conversation, as the calling agent: with
        its model unless `model` is given, within its budget (checked first: BudgetExceeded),
        charged to it and counted in its usage. The request (with the messages sent, which no
        conversation holds), the response and the charge are recorded under the calling
        event. A failing model raises, after its error is recorded."""
        acting = self._acting()
        agent, budget = acting.agent, acting.budget
        model = model or (agent.config.model if agent is not None else self.model)
        budget.check()
        request = acting.emit(
            "model_request",
            {"purpose": purpose, "model": model.name, "messages": [m.to_dict() for m in messages]},
        )
        work = on_first_wait(model.request(list(messages), [], settings), self.log.commit)
        try:
            response = checked(await until(budget.deadline, work))
        except Exception as exc:
            self.log.emit(
                self.run_id,
                "model_error",
                {"error": type(exc).__name__, "message": str(exc)},
                parent=request,
            )
            if isinstance(exc, TimeoutError) and not math.isinf(budget.deadline):
                budget.check()  # the wall-time limit ran out: raises BudgetExceeded
            raise
        usage = response.usage
        if agent is not None:
            agent.usage.add(usage)
        name = agent.config.name if agent is not None else None
        answered = self.log.emit(
            self.run_id,
            "model_response",
            {
                "purpose": purpose,
                "usage": usage.to_dict(),
                "model": response.model,
                "finish_reason": response.finish_reason,
                "reply": response.message.content,
            },
            parent=request,
            agent=name,
        )
        budget.charge(steps=1, tokens=usage.total_tokens, cost_usd=usage.cost_usd)
        self.log.emit(
            self.run_id,
            "budget_charge",
            {
                "budget": budget.name,
                "steps": 1,
                "tokens": usage.total_tokens,
                "cost_usd": usage.cost_usd,
            },
            parent=answered,
            agent=name,
        )
        return response
