"""`Agent`: the public Python API.

    agent = Agent(name="root", instructions="...", model="openai:gpt-5-mini", tools=[add])
    result = agent.run_sync("task", workdir="repo")   # or: await agent.run(...)
    result.answer, result.run_id, result.usage

An `Agent` is a description (instructions, model, tools, kits, limits); each `run` opens the
event log, resolves the model, sets the kits up in the run's `RunContext`, drives an
`AgentLoop` to a `RunResult`, and ends the kits before it records the run's end.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from opensage.config import Config, load_config
from opensage.core.budget import Budget, Limits
from opensage.core.context import RunContext, RunShared
from opensage.core.events import Event, EventLog, Listener
from opensage.core.loop import AgentConfig, AgentLoop, AgentOptions, RunResult
from opensage.core.tools import Tool, Toolset
from opensage.errors import ConfigError
from opensage.kits import Kit, kit_names
from opensage.mcp import McpServer, connect
from opensage.memory.compaction import Compactor
from opensage.models.base import Model, ModelSettings, Usage
from opensage.runtime import (
    check_sandbox,
    named_models,
    new_run_id,
    open_kits,
    resolve_kits,
    resolve_model,
    run_sandbox,
)
from opensage.sandbox import Sandbox
from opensage.telemetry import listener_for as telemetry_listener
from opensage.version import __version__

OnEvent = Callable[[str, str | None, dict[str, Any]], None]  # (kind, agent, data) of one run


class Agent:
    """An agent: what it is told, what it may use, and its limits. The options after
    `max_seconds` are `AgentOptions` (see there); `agent.options` holds them."""

    def __init__(
        self,
        name: str = "agent",
        instructions: str = "",
        *,
        model: str | Model | None = None,
        tools: Sequence[Tool | Callable[..., Any]] = (),
        kits: Sequence[str | Kit] = (),
        sandbox: str | Sandbox | None = None,
        models: Mapping[str, str | Model] | None = None,
        mcp_servers: Sequence[McpServer] = (),
        limits: Limits | None = None,
        max_steps: int | None = None,
        max_cost_usd: float | None = None,
        max_tokens: int | None = None,
        max_seconds: float | None = None,
        settings: ModelSettings | None = None,
        require_finish: bool = AgentOptions.require_finish,
        max_format_errors: int = AgentOptions.max_format_errors,
        tool_timeout_s: float | None = AgentOptions.tool_timeout_s,
        compact_at_tokens: int | None = AgentOptions.compact_at_tokens,
        opening: Sequence[str] = AgentOptions.opening,
        base_url: str | None = None,
        home: str | Path | None = None,
    ):
        self.name = name
        self.instructions = instructions
        self.model = model
        self.tools = [t if isinstance(t, Tool) else Tool(t) for t in tools]
        self.kits = list(kits)  # names and Kit objects; a run records their names
        self.sandbox = sandbox  # a backend name or a Sandbox; None: the configured backend
        self.models = dict(models or {})  # named models the agents it creates may use
        self.mcp_servers = list(mcp_servers)  # besides those in the config
        self.limits = (limits or Limits()).merged(
            Limits(max_steps, max_tokens, max_cost_usd, max_seconds)
        )
        self.options = AgentOptions(
            settings=settings or ModelSettings(),
            require_finish=require_finish,
            max_format_errors=max_format_errors,
            tool_timeout_s=tool_timeout_s,
            compact_at_tokens=compact_at_tokens,
            opening=tuple(opening),
        )
        self.base_url = base_url
        self.home = Path(home).expanduser() if home else None

    # --- running ------------------------------------------------------------------------------

    async def run(
        self, task: str, *, workdir: str | Path | None = None, on_event: OnEvent | None = None
    ) -> RunResult:
        """Run the agent on `task`; `on_event(kind, agent, data)` sees each event as it happens."""
        config = load_config(home=self.home)
        workdir = _existing_folder(Path(workdir or Path.cwd()).resolve())
        EventLog.open(config.events_path)  # a damaged log fails here, before anything starts
        limits = config.limits.merged(self.limits)
        budget = Budget(limits, name=self.name)
        async with _Session(self, config, workdir, new_run_id(), budget, on_event) as s:
            start = s.log.emit(
                s.ctx.run_id,
                "run_started",
                {
                    "task": task,
                    "workdir": str(workdir),
                    "pid": os.getpid(),
                    "version": __version__,
                    "agent": self._describe(s),
                    "limits": asdict(limits),
                },
            )
            loop = s.root_agent(start)
            return await s.drive(start, loop, loop.run(task))

    def run_sync(
        self, task: str, *, workdir: str | Path | None = None, on_event: OnEvent | None = None
    ) -> RunResult:
        return asyncio.run(self.run(task, workdir=workdir, on_event=on_event))

    async def resume(self, run_id: str, *, on_event: OnEvent | None = None) -> RunResult:
        """Continue a run that was interrupted (its process killed) or cancelled (Ctrl-C), from
        its event log. The run is claimed first, so two resumes of one run cannot both go on.
        Its budget starts from what the run was charged (its time too); its usage, from what
        its model calls used. Resumed with the model it was recorded with (its spec, or its
        profile if it had one), the run goes on talking to the endpoint it was recorded with,
        whatever OPENAI_BASE_URL says now; another model is resolved as for a new run."""
        config = load_config(home=self.home)
        log = EventLog.open(config.events_path)
        found = log.find_run(run_id) or run_id
        summary = log.run(found)
        if summary is None:
            raise ConfigError(f"no run {run_id!r} in {config.events_path}")
        refusal = summary.resume_refusal()  # checked again when claiming; this saves a setup
        if refusal:
            raise ConfigError(refusal)
        self._check_kits_known(found)
        start = log.events(found, ("run_started",))[0]
        endpoint = self._recorded_endpoint(start.data["agent"], config)
        workdir = Path(start.data["workdir"])
        budget = Budget(Limits(**start.data["limits"]), name=self.name)
        async with _Session(self, config, workdir, found, budget, on_event, base_url=endpoint) as s:
            resumed = s.log.claim(found, parent=start.id)
            # Read once the run is ours: another resume may have added to it since the check.
            events = s.log.events(found, ("run_started", "agent_started", "budget_charge"))
            root = next(e for e in events if e.kind == "agent_started" and e.parent == start.id)
            _charge_recorded(budget, events)
            if hasattr(s.model, "fast_forward"):  # a replayed script skips what was replayed
                s.model.fast_forward(budget.steps)
            loop = s.root_agent(resumed)
            return await s.drive(start.id, loop, loop.resume(root.id))

    def resume_sync(self, run_id: str, *, on_event: OnEvent | None = None) -> RunResult:
        return asyncio.run(self.resume(run_id, on_event=on_event))

    @classmethod
    def from_record(cls, start_data: dict[str, Any], home: Path | None = None) -> Agent:
        """The agent a `run_started` event describes: what `opensage runs resume` rebuilds. Tools
        given in Python are not recorded, and kits only by name."""
        a = start_data["agent"]
        # The profile, not its spec: resolving it again reads the API key from the variable
        # the profile names, as the run did, rather than sending another key to its endpoint.
        agent = cls(
            a["name"],
            model=a.get("profile") or a["model"],
            kits=a["kits"],
            sandbox=a.get("sandbox"),
            home=home,
        )
        recorded = {f.name: a[f.name] for f in fields(AgentOptions) if f.name in a}
        recorded["opening"] = tuple(recorded.get("opening", ()))  # a list, in the JSON
        agent.options = AgentOptions(**{**recorded, "settings": ModelSettings(**a["settings"])})
        return agent

    # --- helpers ------------------------------------------------------------------------------

    def _check_kits_known(self, run_id: str) -> None:
        """A run is resumed with its kits: one recorded by a name nothing here registers (a
        Kit object given in Python) can only come back from Python."""
        known = kit_names()
        unknown = [k for k in self.kits if isinstance(k, str) and k not in known]
        if unknown:
            raise ConfigError(
                f"the run used the kit {unknown[0]!r}, which is not registered "
                f"here (known kits: {', '.join(known)}). A kit given to the "
                "Agent as an object is recorded by its name only: resume the "
                f"run from Python with the same Agent (agent.resume({run_id!r})), "
                "or register the kit (register_kit, or its package's "
                "opensage.kits entry point)"
            )

    def _config(self, model: Model, toolset: Toolset) -> AgentConfig:
        at = self.options.compact_at_tokens
        return AgentConfig(
            name=self.name,
            model=model,
            instructions=self.instructions,
            tools=toolset,
            options=self.options,
            compactor=Compactor(at) if at else None,
        )

    def _recorded_endpoint(self, recorded: dict[str, Any], config: Config) -> str | None:
        """The endpoint a resume talks to: the one given, else the one the run was recorded
        with if it is resumed with the model it was recorded with (the endpoint belongs to
        that model), else none, which lets the model's spec or profile choose."""
        if self.base_url is not None or not isinstance(self.model, str):
            return self.base_url
        profile = recorded.get("profile")
        if self.model != (profile or recorded["model"]):
            return None
        if profile and profile not in config.profiles:
            raise ConfigError(
                f"the run used the model profile {profile!r}, which is no longer "
                "configured: add [models.{profile}] back to a trusted "
                "opensage.toml, or resume with another model (--model)"
            )
        endpoint: str | None = recorded.get("base_url")
        return endpoint

    def _describe(self, s: _Session) -> dict[str, Any]:
        """The agent as the run records it, to be rebuilt by `from_record`. Of the model: its
        spec, its profile if it came from one, and the endpoint it talks to (never its key)."""
        sandbox = self.sandbox if isinstance(self.sandbox, str | None) else self.sandbox.name
        return {
            "name": self.name,
            "model": s.model.name,
            "profile": s.profile,
            "base_url": _public_endpoint(getattr(s.model, "base_url", None)),
            "kits": [kit.name for kit in s.ctx.kits],
            "sandbox": sandbox,
            "tools": s.toolset.names,
            **asdict(self.options),
        }


def _charge_recorded(budget: Budget, events: list[Event]) -> None:
    """What a run spent before it was resumed, from its log: every charge, and the time from
    its start to its last recorded step."""
    start = events[0]
    if len(events) > 1:
        budget.count_elapsed(max(0.0, events[-1].ts - start.ts))
    for charge in (e for e in events if e.kind == "budget_charge"):
        budget.charge(
            steps=charge.data["steps"],
            tokens=charge.data["tokens"],
            cost_usd=charge.data["cost_usd"],
        )


class _Session:
    """What one run or resume holds open: the event log, the model, the kits (in the run's
    context), MCP connections, and the toolset they make."""

    def __init__(
        self,
        agent: Agent,
        config: Config,
        workdir: Path,
        run_id: str,
        budget: Budget,
        on_event: OnEvent | None,
        base_url: str | None = None,
    ):
        self.agent = agent
        self.base_url = base_url or agent.base_url
        self.profile: str | None = None  # the model profile the model was resolved from
        self.config = config
        self.workdir = workdir
        self.run_id = run_id
        self.budget = budget
        self.listener: Listener | None = None
        if on_event is not None:

            def listener(rid: str, kind: str, name: str | None, data: dict[str, Any]) -> None:
                if rid == run_id:  # the log is shared with any other run of this thread
                    on_event(kind, name, data)

            self.listener = listener

    async def __aenter__(self) -> _Session:
        a = self.agent
        # Everything opened is registered on one stack, so a failure halfway through setting
        # up (a model, the kits, a second MCP server) closes what was already open.
        self.stack = AsyncExitStack()
        try:
            kits = resolve_kits(a.kits)
            check_sandbox(a.sandbox)
            # A spec (or None) is resolved and closed here; a Model object is the caller's.
            if a.model is None or isinstance(a.model, str):
                ref = a.model or self.config.default_model_spec()
                self.profile = ref if ref in self.config.profiles else None
                self.model: Model = resolve_model(ref, self.config, base_url=self.base_url)
                self.stack.push_async_callback(self.model.aclose)
            else:
                self.model = a.model
            self.log = EventLog.open(self.config.events_path)
            config = self.config
            self.ctx = RunContext(
                config=config,
                run_id=self.run_id,
                workdir=self.workdir,
                log=self.log,
                model=self.model,
                root_budget=self.budget,
                shared=RunShared(lambda: run_sandbox(config, a.sandbox)),
                kits=kits,
                model_names=(*a.models, *config.profiles),
                resolve_model=named_models(config, a.models),
            )
            # Ended by `drive`, before the run's end is recorded (else by the stack's end).
            self.kits = await self.stack.enter_async_context(AsyncExitStack())
            kit_tools = await open_kits(self.ctx, a.tools, self.kits)
            taken = {t.name for t in [*a.tools, *kit_tools]}
            remote = await connect([*config.mcp_servers, *a.mcp_servers], self.stack, taken)
            try:
                self.toolset = Toolset([*a.tools, *kit_tools, *remote])
            except ValueError as exc:  # a tool given in Python has a kit tool's name
                raise ConfigError(
                    f"{exc}: rename the tool given to the agent, or leave out "
                    "the kit that has one of that name"
                ) from None
        except BaseException:
            await self.stack.aclose()
            raise
        if self.listener is not None:
            self.log.listeners.append(self.listener)
        # OpenTelemetry, when configured: a listener that has the run exported (off the loop).
        self.telemetry = telemetry_listener(self.config, self.run_id)
        if self.telemetry is not None:
            self.log.listeners.append(self.telemetry)
        return self

    def root_agent(self, event: int) -> AgentLoop:
        """The run's root agent, its events under `event` (the run's start, or its resume):
        the kits end acting for it."""
        loop = AgentLoop(
            self.agent._config(self.model, self.toolset),
            ctx=self.ctx,
            budget=self.budget,
            parent_event=event,
        )
        self.ctx.set_root(loop, event)
        return loop

    async def drive(
        self, start_event: int, loop: AgentLoop, body: Coroutine[Any, Any, RunResult]
    ) -> RunResult:
        """Await the loop, end the kits (their end-of-run work counts in the run), and record
        how the run ended, even when it is cancelled or breaks."""
        try:
            result = await body
        except BaseException as exc:
            cancelled = isinstance(exc, asyncio.CancelledError | KeyboardInterrupt)
            await self.kits.aclose()
            self._record_end(
                loop,
                start_event,
                "cancelled" if cancelled else "error",
                None,
                "the run was cancelled" if cancelled else f"internal error: {exc!r}",
            )
            raise
        await self.kits.aclose()
        result = replace(result, usage=loop.total_usage())
        self._record_end(loop, start_event, result.stop_reason, result.answer, result.message)
        return result

    def _record_end(
        self, loop: AgentLoop, start_event: int, reason: str, answer: str | None, message: str
    ) -> None:
        self.log.emit(
            loop.run_id,
            "run_finished",
            {
                "stop_reason": reason,
                "answer": answer,
                "message": message,
                "usage": loop.total_usage().to_dict(),
                "steps": loop.steps,
            },
            parent=start_event,
        )
        self.log.commit()

    async def __aexit__(self, *exc: object) -> None:
        if self.listener is not None:
            self.log.listeners.remove(self.listener)
        if self.telemetry is not None:
            self.log.listeners.remove(self.telemetry)
        # In reverse: MCP connections, the kits (if `drive` did not end them), then the model.
        await self.stack.aclose()


def _existing_folder(workdir: Path) -> Path:
    """The work dir, which must be a folder: checked before the run, not by each tool."""
    if not workdir.is_dir():
        raise ConfigError(
            f"the work dir {workdir} "
            + ("is not a folder" if workdir.exists() else "does not exist")
            + ": give an existing folder (--workdir)"
        )
    return workdir


def _public_endpoint(url: object) -> str | None:
    """A model's endpoint as a run records it: without any user:password part."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


__all__ = ["Agent", "Limits", "RunResult", "Usage"]
