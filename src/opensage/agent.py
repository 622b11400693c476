"""`Agent`: the public Python API.

    agent = Agent(name="root", instructions="...", model="openai:gpt-5-mini", tools=[add])
    result = agent.run_sync("task", workdir="repo")   # or: await agent.run(...)
    result.answer, result.run_id, result.usage

An `Agent` is a description (instructions, model, tools, kits, limits); each `run` opens the
event log, resolves the model and kits, and drives an `AgentLoop` to a `RunResult`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from opensage import __version__
from opensage.config import Config, load_config
from opensage.core.budget import Budget, Limits
from opensage.core.events import EventLog, Listener
from opensage.core.loop import AgentConfig, AgentLoop, RunResult
from opensage.core.tools import Tool, Toolset
from opensage.mcp import McpServer, connect
from opensage.memory.compaction import Compactor
from opensage.models.base import ConfigError, Model, ModelSettings, Usage
from opensage.runtime import build_kits, new_run_id, resolve_model
from opensage.sandbox import Sandbox

log = logging.getLogger("opensage")
OnEvent = Callable[[str, str | None, dict[str, Any]], None]  # (kind, agent, data) of one run


class Agent:
    def __init__(
        self,
        name: str = "agent",
        instructions: str = "",
        *,
        model: str | Model | None = None,
        tools: Sequence[Tool | Callable[..., Any]] = (),
        kits: Sequence[str] = (),
        sandbox: str | Sandbox | None = None,
        models: Mapping[str, str | Model] | None = None,
        mcp_servers: Sequence[McpServer] = (),
        limits: Limits | None = None,
        max_steps: int | None = None,
        max_cost_usd: float | None = None,
        max_tokens: int | None = None,
        max_seconds: float | None = None,
        settings: ModelSettings | None = None,
        require_finish: bool = False,
        max_format_errors: int = 3,
        tool_timeout_s: float | None = 600.0,
        compact_at_tokens: int | None = None,
        base_url: str | None = None,
        home: str | Path | None = None,
    ):
        self.name = name
        self.instructions = instructions
        self.model = model
        self.tools = [t if isinstance(t, Tool) else Tool(t) for t in tools]
        self.kits = list(kits)
        self.sandbox = sandbox  # a backend name or a Sandbox; None: the configured backend
        self.models = dict(models or {})  # named models the agents it creates may use
        self.mcp_servers = list(mcp_servers)  # besides those in the config
        self.limits = (limits or Limits()).merged(
            Limits(max_steps, max_tokens, max_cost_usd, max_seconds))
        self.settings = settings or ModelSettings()
        self.require_finish = require_finish
        self.max_format_errors = max_format_errors
        self.tool_timeout_s = tool_timeout_s
        # Fold older steps into a summary once the context passes this many tokens.
        self.compact_at_tokens = compact_at_tokens
        self.base_url = base_url
        self.home = Path(home).expanduser() if home else None

    # --- running ------------------------------------------------------------------------------

    async def run(self, task: str, *, workdir: str | Path | None = None,
                  on_event: OnEvent | None = None) -> RunResult:
        """Run the agent on `task`; `on_event(kind, agent, data)` sees each event as it happens."""
        config = load_config(home=self.home)
        workdir = _existing_folder(Path(workdir or Path.cwd()).resolve())
        EventLog.open(config.events_path)  # a damaged log fails here, before anything starts
        run_id = new_run_id()
        async with _Session(self, config, workdir, run_id, on_event) as s:
            limits = config.limits.merged(self.limits)
            start = s.log.emit(run_id, "run_started", {
                "task": task, "workdir": str(workdir), "pid": os.getpid(), "version": __version__,
                "agent": self._describe(s), "limits": asdict(limits),
            })
            loop = AgentLoop(self._config(s.model, s.toolset), log=s.log, run_id=run_id,
                             budget=Budget(limits, name=self.name), parent_event=start)
            return await s.drive(start, loop.run(task), loop)

    def run_sync(self, task: str, *, workdir: str | Path | None = None,
                 on_event: OnEvent | None = None) -> RunResult:
        return asyncio.run(self.run(task, workdir=workdir, on_event=on_event))

    async def resume(self, run_id: str, *, on_event: OnEvent | None = None) -> RunResult:
        """Continue a run that was interrupted (its process killed) or cancelled (Ctrl-C), from
        its event log. The run is claimed first, so two resumes of one run cannot both go on.
        Resumed with the model it was recorded with (its spec, or its profile if it had one),
        the run goes on talking to the endpoint it was recorded with, whatever OPENAI_BASE_URL
        says now; another model is resolved as for a new run."""
        config = load_config(home=self.home)
        log = EventLog.open(config.events_path)
        found = log.find_run(run_id) or run_id
        summary = log.run(found)
        if summary is None:
            raise ConfigError(f"no run {run_id!r} in {config.events_path}")
        refusal = summary.resume_refusal()  # checked again when claiming; this saves a setup
        if refusal:
            raise ConfigError(refusal)
        start = log.events(found, ("run_started",))[0]
        endpoint = self._recorded_endpoint(start.data["agent"], config)
        workdir = Path(start.data["workdir"])
        async with _Session(self, config, workdir, found, on_event, base_url=endpoint) as s:
            resumed = s.log.claim(found, parent=start.id)
            # Read once the run is ours: another resume may have added to it since the check.
            events = s.log.events(found, ("run_started", "agent_started", "budget_charge"))
            root = next(e for e in events if e.kind == "agent_started" and e.parent == start.id)
            limits = Limits(**start.data["limits"])
            elapsed = max(0.0, events[-1].ts - start.ts) if len(events) > 1 else 0.0
            budget = Budget(limits, name=self.name, elapsed_s=elapsed)
            for charge in (e for e in events if e.kind == "budget_charge"):
                budget.charge(steps=charge.data["steps"], tokens=charge.data["tokens"],
                              cost_usd=charge.data["cost_usd"])
            if hasattr(s.model, "fast_forward"):  # a replayed script skips what was replayed
                s.model.fast_forward(budget.steps)
            loop = AgentLoop(self._config(s.model, s.toolset), log=s.log, run_id=found,
                             budget=budget, parent_event=resumed)
            return await s.drive(start.id, loop.resume(root.id), loop)

    def resume_sync(self, run_id: str, *, on_event: OnEvent | None = None) -> RunResult:
        return asyncio.run(self.resume(run_id, on_event=on_event))

    @classmethod
    def from_record(cls, start_data: dict[str, Any], home: Path | None = None) -> Agent:
        """The agent a `run_started` event describes: what `opensage runs resume` rebuilds. Tools
        given in Python are not recorded; only kits come back."""
        a = start_data["agent"]
        # The profile, not its spec: resolving it again reads the API key from the variable
        # the profile names, as the run did, rather than sending another key to its endpoint.
        return cls(a["name"], model=a.get("profile") or a["model"], kits=a["kits"],
                   sandbox=a.get("sandbox"),
                   settings=ModelSettings(**a["settings"]), require_finish=a["require_finish"],
                   max_format_errors=a["max_format_errors"], tool_timeout_s=a["tool_timeout_s"],
                   compact_at_tokens=a.get("compact_at_tokens"),
                   home=home)

    # --- helpers ------------------------------------------------------------------------------

    def _config(self, model: Model, toolset: Toolset) -> AgentConfig:
        return AgentConfig(name=self.name, model=model, instructions=self.instructions,
                           tools=toolset, settings=self.settings,
                           max_format_errors=self.max_format_errors,
                           tool_timeout_s=self.tool_timeout_s, require_finish=self.require_finish,
                           compactor=Compactor(self.compact_at_tokens)
                           if self.compact_at_tokens else None)

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
            raise ConfigError(f"the run used the model profile {profile!r}, which is no longer "
                              f"configured: add [models.{profile}] back to a trusted "
                              "opensage.toml, or resume with another model (--model)")
        endpoint: str | None = recorded.get("base_url")
        return endpoint

    def _describe(self, s: _Session) -> dict[str, Any]:
        """The agent as the run records it, to be rebuilt by `from_record`. Of the model: its
        spec, its profile if it came from one, and the endpoint it talks to (never its key)."""
        sandbox = self.sandbox if isinstance(self.sandbox, str | None) else self.sandbox.name
        return {"name": self.name, "model": s.model.name, "profile": s.profile,
                "base_url": _public_endpoint(getattr(s.model, "base_url", None)),
                "kits": self.kits, "sandbox": sandbox,
                "tools": s.toolset.names, "settings": asdict(self.settings),
                "require_finish": self.require_finish,
                "compact_at_tokens": self.compact_at_tokens,
                "max_format_errors": self.max_format_errors, "tool_timeout_s": self.tool_timeout_s}


class _Session:
    """What one run or resume holds open: the event log, the model, the toolset."""

    def __init__(self, agent: Agent, config: Config, workdir: Path, run_id: str,
                 on_event: OnEvent | None, base_url: str | None = None):
        self.agent = agent
        self.base_url = base_url or agent.base_url
        self.profile: str | None = None  # the model profile the model was resolved from
        self.config = config
        self.workdir = workdir
        self.run_id = run_id
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
            # A spec (or None) is resolved and closed here; a Model object is the caller's.
            if a.model is None or isinstance(a.model, str):
                ref = a.model or self.config.default_model_spec()
                self.profile = ref if ref in self.config.profiles else None
                self.model: Model = resolve_model(ref, self.config, base_url=self.base_url)
                self.stack.push_async_callback(self.model.aclose)
            else:
                self.model = a.model
            kit_tools, kits = build_kits(a.kits, self.workdir, self.config, a.sandbox,
                                         a.models, a.tools, self.run_id, self.model)
            for cleanup in kits.cleanups:
                self.stack.push_async_callback(_logged, cleanup)
            taken = {t.name for t in [*a.tools, *kit_tools]}
            remote = await connect([*self.config.mcp_servers, *a.mcp_servers], self.stack,
                                   taken)
        except BaseException:
            await self.stack.aclose()
            raise
        self.toolset = Toolset([*a.tools, *kit_tools, *remote])
        self.log = EventLog.open(self.config.events_path)
        if self.listener is not None:
            self.log.listeners.append(self.listener)
        return self

    async def drive(self, start_event: int, body: Any, loop: AgentLoop) -> RunResult:
        """Await the loop and record how the run ended, even when it is cancelled or breaks."""
        try:
            result: RunResult = await body
        except BaseException as exc:
            cancelled = isinstance(exc, asyncio.CancelledError | KeyboardInterrupt)
            self._record_end(loop, start_event, "cancelled" if cancelled else "error", None,
                             "the run was cancelled" if cancelled else f"internal error: {exc!r}")
            raise
        self._record_end(loop, start_event, result.stop_reason, result.answer, result.message)
        return result

    def _record_end(self, loop: AgentLoop, start_event: int, reason: str, answer: str | None,
                    message: str) -> None:
        self.log.emit(loop.run_id, "run_finished", {
            "stop_reason": reason, "answer": answer, "message": message,
            "usage": loop.total_usage().to_dict(), "steps": loop.steps}, parent=start_event)
        self.log.commit()

    async def __aexit__(self, *exc: object) -> None:
        if self.listener is not None:
            self.log.listeners.remove(self.listener)
        # In reverse: MCP connections, then the kits' cleanups (memory consolidation...), then
        # the model. A cleanup that fails is logged and the others still run.
        await self.stack.aclose()


def _existing_folder(workdir: Path) -> Path:
    """The work dir, which must be a folder: checked before the run, not by each tool."""
    if not workdir.is_dir():
        raise ConfigError(f"the work dir {workdir} "
                          + ("is not a folder" if workdir.exists() else "does not exist")
                          + ": give an existing folder (--workdir)")
    return workdir


def _public_endpoint(url: object) -> str | None:
    """A model's endpoint as a run records it: without any user:password part."""
    if not isinstance(url, str):
        return None
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


async def _logged(cleanup: Callable[[], Awaitable[None]]) -> None:
    try:
        await cleanup()
    except Exception:
        log.exception("a cleanup at the end of the run failed")


__all__ = ["Agent", "Limits", "RunResult", "Usage"]
