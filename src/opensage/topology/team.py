"""A run's team of model-created agents: who exists, who is running, and how they are run.

Sub-agents run as `AgentLoop`s in the caller's run: their events hang under the tool call that
started them, their budget is a child of the caller's (so no agent outspends its ancestors), and
their tools are a subset of the caller's. Failures come back to the caller as results.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from contextlib import AsyncExitStack
from dataclasses import replace
from pathlib import Path

from opensage.config import TopologySettings
from opensage.core.budget import BudgetExceeded, Limits
from opensage.core.context import RunContext
from opensage.core.loop import AgentConfig, AgentLoop, RunResult
from opensage.core.tools import Tool, ToolError, Toolset
from opensage.kits.base import merge_tools
from opensage.models.base import Message, Model, ModelSettings
from opensage.topology.library import AgentLibrary, AgentSpec
from opensage.topology.workdirs import apply_changes, copy_workdir, normalize

SELECTIONS = ("verify", "vote", "judge")
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
JUDGE = "You judge candidate answers to a task, impartially."


class Team:
    """The team of one run; `ctx` is the run's context, each tool call brings its own."""

    def __init__(self, ctx: RunContext, settings: TopologySettings):
        self.ctx = ctx
        self.settings = settings
        self.library = AgentLibrary(ctx.config.agents_path)
        self.created: dict[str, AgentSpec] = {}  # in this run
        self.handles: dict[str, asyncio.Task[RunResult]] = {}
        self.slots = asyncio.Semaphore(settings.max_concurrent)
        self.models: dict[str, Model] = {}  # resolved for sub-agents; closed at the run's end

    # --- the tools' logic ---------------------------------------------------------------------

    def create(
        self,
        ctx: RunContext,
        name: str,
        instructions: str,
        tools: list[str],
        model: str | None,
        description: str,
    ) -> str:
        caller, _ = ctx.in_call()
        if not name or not set(name) <= NAME_CHARS or len(name) > 64:
            raise ToolError(f"agent name {name!r}: use 1-64 letters, digits, _ or -")
        if caller.depth + 1 > self.settings.max_depth:
            raise ToolError(
                f"{caller.config.name} is at depth {caller.depth}; agents it creates "
                f"could not run (maximum depth {self.settings.max_depth})"
            )
        live = [n for n, s in self.created.items() if not s.retired]
        if name not in self.created and len(live) >= self.settings.max_live_agents:
            raise ToolError(
                f"{len(live)} agents are live (the limit is "
                f"{self.settings.max_live_agents}); retire one first"
            )
        mine = set(caller.config.tools.names)
        missing = [t for t in tools if t not in mine]
        if missing:
            raise ToolError(
                f"an agent can only get tools its creator has; {caller.config.name} "
                f"has no {', '.join(map(repr, missing))}. Available: "
                f"{', '.join(sorted(mine))}"
            )
        self._check_model(caller, model)
        spec = AgentSpec(
            name=name,
            instructions=instructions,
            tools=[t for t in dict.fromkeys(tools) if t != "finish"],
            model=model,
            description=description,
            created_run=caller.run_id,
            created_by=caller.config.name,
        )
        existing = self.library.get(name)
        if name in self.created and not self.created[name].same_definition(spec):
            raise ToolError(
                f"an agent named {name!r} was already created in this run with "
                "other instructions; choose another name"
            )
        saved = self.library.save(spec)
        self.created[name] = saved
        ctx.emit("agent_created", saved.summary())
        what = "reused" if existing and saved.version == existing.version else "created"
        return f"agent {name!r} {what} (version {saved.version}); run it with run_agent"

    async def run(self, ctx: RunContext, name: str, task: str, background: bool) -> str:
        caller, event = ctx.in_call()
        spec = self._spec(name)
        if not background:
            return describe(await self.run_agent(ctx, event, spec, task))
        handle = f"{name}#{sum(h.startswith(name + '#') for h in self.handles) + 1}"
        job = asyncio.create_task(self.run_agent(ctx, event, spec, task))
        caller.background.add(job)
        job.add_done_callback(caller.background.discard)
        self.handles[handle] = job
        return f"started; collect it with wait_agents([{handle!r}])"

    async def wait(self, handles: list[str], timeout_s: float | None) -> str:
        unknown = [h for h in handles if h not in self.handles]
        if unknown:
            raise ToolError(f"unknown handles {unknown}; known: {sorted(self.handles)}")
        jobs = [self.handles[h] for h in handles]
        if jobs:
            await asyncio.wait(jobs, timeout=timeout_s)
        report: dict[str, dict[str, str | None]] = {}
        for handle, job in zip(handles, jobs, strict=True):
            if not job.done():
                report[handle] = {"status": "running"}
            elif job.cancelled():  # its creator finished before it did
                report[handle] = {"status": "cancelled"}
            elif job.exception() is not None:
                report[handle] = {"status": "error", "message": str(job.exception())}
            else:
                result = job.result()
                report[handle] = {
                    "status": result.stop_reason,
                    "answer": result.answer,
                    "message": result.message,
                }
        return json.dumps(report, indent=1)

    def listing(self) -> str:
        agents = [s.summary() for s in self.library.search(limit=100)]
        return json.dumps({"created_in_this_run": sorted(self.created), "agents": agents}, indent=1)

    def retire(self, ctx: RunContext, name: str) -> str:
        if not self.library.retire(name):
            raise ToolError(f"no live agent named {name!r}")
        if name in self.created:
            self.created[name].retired = True
        ctx.emit("agent_retired", {"name": name})
        return f"agent {name!r} retired"

    async def ensemble(
        self,
        ctx: RunContext,
        task: str,
        agent: str,
        n: int,
        models: list[str] | None,
        select: str,
        verify_command: str | None,
    ) -> str:
        """Members work on copies of the work dir of the call (the run's, or for an ensemble
        inside an ensemble member, the member's copy), and the chosen one's changes go back
        there."""
        caller, _ = ctx.in_call()
        workdir, home = ctx.workdir, ctx.config.home
        spec = self._spec(agent)
        if not 1 <= n <= self.settings.max_concurrent:
            raise ToolError(f"n must be from 1 to {self.settings.max_concurrent}")
        if select not in SELECTIONS:
            raise ToolError(f"select must be one of {', '.join(SELECTIONS)}")
        if select == "verify" and not verify_command:
            raise ToolError("select='verify' needs a verify_command (e.g. the tests)")
        for m in models or ():
            self._check_model(caller, m)
        started = ctx.emit(
            "ensemble_started",
            {
                "agent": agent,
                "n": n,
                "models": models,
                "select": select,
                "verify_command": verify_command,
            },
        )
        in_ensemble = replace(ctx, event=started)
        base = copy_workdir(workdir, f"{agent}-base", home)  # each member's start
        members = []
        for i in range(n):
            model_spec = models[i % len(models)] if models else spec.model
            copy = copy_workdir(base, f"{agent}-{i}")
            event = in_ensemble.emit(
                "ensemble_member", {"index": i, "model": model_spec, "workdir": str(copy)}
            )
            members.append((i, model_spec, copy, event))
        try:
            results = await asyncio.gather(
                *(
                    self._run_member(ctx.with_workdir(copy), event, spec, task, m, f"{agent}[{i}]")
                    for i, m, copy, event in members
                )
            )
            checks: list[int | None] = [None] * n
            if select == "verify":
                checks = [await self._verify(str(verify_command), w) for _, _, w, _ in members]
            chosen, reason = await self._select(in_ensemble, select, task, results, checks)
            applied: dict[str, list[str]] = {"changed": [], "deleted": []}
            if chosen is not None:
                try:
                    changed, deleted = apply_changes(base, members[chosen][2], workdir, home)
                except ValueError as exc:  # a change that would escape the work dir
                    raise ToolError(
                        f"the chosen member's changes were not applied: {exc}"
                    ) from None
                applied = {"changed": changed, "deleted": deleted}
            in_ensemble.emit("ensemble_selected", {"selected": chosen, "reason": reason, **applied})
        finally:
            for folder in [base, *(w for _, _, w, _ in members)]:
                shutil.rmtree(folder.parent, ignore_errors=True)
        return json.dumps(
            {
                "selected": chosen,
                "reason": reason,
                "answer": results[chosen].answer if chosen is not None else None,
                "applied": applied,
                "candidates": [
                    {
                        "index": i,
                        "model": members[i][1] or caller.config.model.name,
                        "stop_reason": r.stop_reason,
                        "answer": (r.answer or "")[:500],
                        "verify_exit_code": checks[i],
                        "cost_usd": round(r.usage.cost_usd, 6),
                        "steps": r.steps,
                    }
                    for i, r in enumerate(results)
                ],
            },
            indent=1,
        )

    # --- running one sub-agent ----------------------------------------------------------------

    async def _run_member(
        self,
        ctx: RunContext,
        parent_event: int,
        spec: AgentSpec,
        task: str,
        model_spec: str | None,
        label: str,
    ) -> RunResult:
        """Run an ensemble member in `ctx`, which works on its copy of the work dir: the
        run's kits whose tools act on the work dir are set up again for the copy, for as long
        as the member runs. Its other tools (the written ones, the ensemble) take the work dir
        from the context they are called in, the member's."""
        async with AsyncExitStack() as stack:
            opened = [
                (kit, await stack.enter_async_context(kit.session(ctx)))
                for kit in ctx.kits
                if kit.acts_on_workdir
            ]
            rebuilt = {t.name: t for t in merge_tools(opened)}
            return await self.run_agent(
                ctx, parent_event, spec, task, model_spec=model_spec, label=label, rebuilt=rebuilt
            )

    async def run_agent(
        self,
        ctx: RunContext,
        parent_event: int,
        spec: AgentSpec,
        task: str,
        *,
        model_spec: str | None = None,
        label: str | None = None,
        rebuilt: dict[str, Tool] | None = None,
    ) -> RunResult:
        """Run `spec` on `task` as a child of the calling agent, in `ctx`; `rebuilt` are tools
        that replace the caller's of the same name (an ensemble member's). Never raises for the
        sub-agent's sake."""
        caller, _ = ctx.in_call()
        name = label or spec.name
        if caller.depth + 1 > self.settings.max_depth:
            raise ToolError(
                f"maximum depth {self.settings.max_depth} reached: "
                f"{caller.config.name} (depth {caller.depth}) cannot run agents"
            )
        given = caller.config.options
        options = replace(
            given,
            settings=ModelSettings(temperature=given.settings.temperature),
            require_finish=False,
            compact_at_tokens=None,
            opening=(),  # the caller's fixed start is its own
        )
        config = AgentConfig(
            name=name,
            model=self._model(caller, model_spec or spec.model),
            instructions=spec.instructions,
            tools=self._tools(caller, spec, rebuilt or {}),
            options=options,
        )
        limits = Limits(max_steps=self.settings.default_max_steps)
        if caller.depth > 0:  # nested: it runs inside its creator's slot (else it could deadlock)
            return await caller.run_child(
                config, task, parent_event=parent_event, limits=limits, ctx=ctx
            )
        async with self.slots:
            return await caller.run_child(
                config, task, parent_event=parent_event, limits=limits, ctx=ctx
            )

    def _tools(self, caller: AgentLoop, spec: AgentSpec, rebuilt: dict[str, Tool]) -> Toolset:
        tools = []
        for name in spec.tools:
            found = rebuilt.get(name) or caller.config.tools.get(name)
            if found is None:
                raise ToolError(
                    f"agent {spec.name!r} needs the tool {name!r}, which "
                    f"{caller.config.name} does not have"
                )
            tools.append(found)
        return Toolset(tools)

    def _spec(self, name: str) -> AgentSpec:
        spec = self.created.get(name) or self.library.get(name)
        if spec is None:
            raise ToolError(
                f"no agent named {name!r}; create it with create_agent, or see list_agents"
            )
        if spec.retired:
            raise ToolError(f"agent {name!r} is retired; create it again to use it")
        return spec

    def allowed_models(self, caller: AgentLoop) -> list[str]:
        return [caller.config.model.name, *self.settings.models, *self.ctx.model_names]

    def _check_model(self, caller: AgentLoop, model: str | None) -> None:
        if model is not None and model not in self.allowed_models(caller):
            raise ToolError(
                f"model {model!r} is not allowed here; allowed: "
                f"{', '.join(self.allowed_models(caller))}"
            )

    def _model(self, caller: AgentLoop, spec: str | None) -> Model:
        if spec is None or spec == caller.config.model.name:
            return caller.config.model
        if spec not in self.models:
            if self.ctx.resolve_model is None:
                raise ToolError(f"cannot load model {spec!r} in this run")
            self.models[spec] = self.ctx.resolve_model(spec)
        return self.models[spec]

    # --- ensembles ----------------------------------------------------------------------------

    async def _verify(self, command: str, workdir: Path) -> int:
        result = await self.ctx.sandbox().exec(
            command, workdir=workdir, timeout_s=600, limits=self.ctx.config.sandbox_limits
        )
        return result.exit_code if not result.timed_out else 124

    async def _select(
        self,
        ctx: RunContext,
        select: str,
        task: str,
        results: list[RunResult],
        checks: list[int | None],
    ) -> tuple[int | None, str]:
        finished = [i for i, r in enumerate(results) if r.ok]
        by_cost = sorted(finished, key=lambda i: (results[i].usage.cost_usd, results[i].steps))
        if select == "verify":
            passing = [i for i in by_cost if checks[i] == 0]
            if not passing:
                return None, "no member's work passed the verify command"
            return passing[0], (
                f"{len(passing)} of {len(results)} passed the verify command; "
                "the cheapest was taken"
            )
        if not finished:
            return None, "no member finished"
        if select == "vote":
            groups: dict[str, list[int]] = {}
            for i in by_cost:
                groups.setdefault(normalize(results[i].answer), []).append(i)
            best = max(groups.values(), key=len)  # ties: the group whose cheapest is cheapest
            return best[0], f"{len(best)} of {len(results)} members gave this answer"
        return await self._judge(ctx, task, results, finished)

    async def _judge(
        self, ctx: RunContext, task: str, results: list[RunResult], finished: list[int]
    ) -> tuple[int | None, str]:
        """Ask the caller's model to pick (a side request, recorded under the ensemble)."""
        candidates = "\n\n".join(f"[{i}] {results[i].answer}" for i in finished)
        prompt = (
            f"Task:\n{task}\n\nCandidate answers:\n\n{candidates}\n\nPick the best "
            'answer. Reply with JSON only: {"choice": <number>, "reason": "<why>"}.'
        )
        try:
            reply = await ctx.side_request(
                [Message("system", JUDGE), Message("user", prompt)],
                "ensemble_judge",
                settings=ModelSettings(temperature=0),
            )
        except BudgetExceeded as exc:
            return None, f"the judge was not asked: {exc}"
        except Exception as exc:  # the model failed: no choice, and why
            return None, f"the judge failed: {type(exc).__name__}: {exc}"
        try:
            text = reply.message.content
            verdict = json.loads(text[text.index("{") : text.rindex("}") + 1])
            choice, reason = int(verdict["choice"]), str(verdict["reason"]).strip()
        except (ValueError, KeyError, TypeError):
            return None, f"the judge's reply could not be read: {reply.message.content[:300]!r}"
        if choice not in finished or not reason:
            return None, f"the judge chose {choice!r} without a valid candidate and reason"
        return choice, f"judge: {reason}"

    async def close(self) -> None:
        for job in self.handles.values():
            job.cancel()
        for model in self.models.values():
            await model.aclose()
        self.library.close()


def describe(result: RunResult) -> str:
    """A sub-agent's result for its caller: the answer, or an error it can act on."""
    if result.ok:
        return result.answer or "(finished with no answer)"
    partial = f" Its last answer: {result.answer}" if result.answer else ""
    raise ToolError(
        f"agent {result.agent} did not finish ({result.stop_reason}: {result.message}).{partial}"
    )
