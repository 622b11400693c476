"""A run's team of model-created agents: who exists, who is running, and how they are run.

Sub-agents run as `AgentLoop`s in the caller's run: their events hang under the tool call that
started them, their budget is a child of the caller's (so no agent outspends its ancestors), and
their tools are a subset of the caller's. Failures come back to the caller as results.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opensage.core.budget import Limits
from opensage.core.loop import AgentConfig, AgentLoop, RunResult
from opensage.core.tools import Tool, ToolError, Toolset
from opensage.kits import KitContext
from opensage.models.base import Message, Model, ModelSettings
from opensage.topology.library import AgentLibrary, AgentSpec
from opensage.topology.workdirs import apply_changes, copy_workdir, normalize

SELECTIONS = ("verify", "vote", "judge")
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@dataclass
class TopologySettings:
    max_depth: int = 3  # the root agent is depth 0
    max_live_agents: int = 16  # created in this run and not retired
    max_concurrent: int = 16  # sub-agent runs of the root at once (with what they start)
    default_max_steps: int = 30  # each sub-agent run, within what its ancestors have left
    models: list[str] = field(default_factory=list)  # further specs sub-agents may use

    @classmethod
    def from_table(cls, table: dict[str, Any]) -> TopologySettings:
        unknown = set(table) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown [topology] settings: {sorted(unknown)}")
        return cls(**table)


class Team:
    def __init__(self, ctx: KitContext, settings: TopologySettings):
        self.ctx = ctx
        self.settings = settings
        self.library = AgentLibrary(ctx.home / "agents.db")
        self.created: dict[str, AgentSpec] = {}  # in this run
        self.handles: dict[str, asyncio.Task[RunResult]] = {}
        self.slots = asyncio.Semaphore(settings.max_concurrent)
        self.models: dict[str, Model] = {}  # resolved for sub-agents; closed at the run's end
        ctx.cleanups.append(self.close)

    # --- the tools' logic ---------------------------------------------------------------------

    def create(self, caller: AgentLoop, parent_event: int, name: str, instructions: str,
               tools: list[str], model: str | None, description: str) -> str:
        if not name or not set(name) <= NAME_CHARS or len(name) > 64:
            raise ToolError(f"agent name {name!r}: use 1-64 letters, digits, _ or -")
        if caller.depth + 1 > self.settings.max_depth:
            raise ToolError(f"{caller.config.name} is at depth {caller.depth}; agents it creates "
                            f"could not run (maximum depth {self.settings.max_depth})")
        live = [n for n, s in self.created.items() if not s.retired]
        if name not in self.created and len(live) >= self.settings.max_live_agents:
            raise ToolError(f"{len(live)} agents are live (the limit is "
                            f"{self.settings.max_live_agents}); retire one first")
        mine = set(caller.config.tools.names)
        missing = [t for t in tools if t not in mine]
        if missing:
            raise ToolError(f"an agent can only get tools its creator has; {caller.config.name} "
                            f"has no {', '.join(map(repr, missing))}. Available: "
                            f"{', '.join(sorted(mine))}")
        self._check_model(caller, model)
        spec = AgentSpec(name=name, instructions=instructions,
                         tools=[t for t in dict.fromkeys(tools) if t != "finish"], model=model,
                         description=description, created_run=caller.run_id,
                         created_by=caller.config.name)
        existing = self.library.get(name)
        if name in self.created and not self.created[name].same_definition(spec):
            raise ToolError(f"an agent named {name!r} was already created in this run with "
                            "other instructions; choose another name")
        saved = self.library.save(spec)
        self.created[name] = saved
        caller.log.emit(caller.run_id, "agent_created", saved.summary(), parent=parent_event,
                        agent=caller.config.name)
        what = "reused" if existing and saved.version == existing.version else "created"
        return f"agent {name!r} {what} (version {saved.version}); run it with run_agent"

    async def run(self, caller: AgentLoop, parent_event: int, name: str, task: str,
                  background: bool) -> str:
        spec = self._spec(name)
        if not background:
            return describe(await self.run_agent(caller, parent_event, spec, task))
        handle = f"{name}#{sum(h.startswith(name + '#') for h in self.handles) + 1}"
        job = asyncio.create_task(self.run_agent(caller, parent_event, spec, task))
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
                report[handle] = {"status": result.stop_reason, "answer": result.answer,
                                  "message": result.message}
        return json.dumps(report, indent=1)

    def listing(self) -> str:
        agents = [s.summary() for s in self.library.search(limit=100)]
        return json.dumps({"created_in_this_run": sorted(self.created), "agents": agents},
                          indent=1)

    def retire(self, caller: AgentLoop, parent_event: int, name: str) -> str:
        if not self.library.retire(name):
            raise ToolError(f"no live agent named {name!r}")
        if name in self.created:
            self.created[name].retired = True
        caller.log.emit(caller.run_id, "agent_retired", {"name": name}, parent=parent_event,
                        agent=caller.config.name)
        return f"agent {name!r} retired"

    async def ensemble(self, caller: AgentLoop, parent_event: int, task: str, agent: str, n: int,
                       models: list[str] | None, select: str, verify_command: str | None,
                       workdir: Path | None = None) -> str:
        """Members work on copies of `workdir` (the run's, or for an ensemble inside an
        ensemble member, the member's copy), and the chosen one's changes go back there."""
        workdir = workdir or self.ctx.workdir
        spec = self._spec(agent)
        if not 1 <= n <= self.settings.max_concurrent:
            raise ToolError(f"n must be from 1 to {self.settings.max_concurrent}")
        if select not in SELECTIONS:
            raise ToolError(f"select must be one of {', '.join(SELECTIONS)}")
        if select == "verify" and not verify_command:
            raise ToolError("select='verify' needs a verify_command (e.g. the tests)")
        for m in models or ():
            self._check_model(caller, m)
        log, run_id = caller.log, caller.run_id
        started = log.emit(run_id, "ensemble_started", {
            "agent": agent, "n": n, "models": models, "select": select,
            "verify_command": verify_command}, parent=parent_event, agent=caller.config.name)
        base = copy_workdir(workdir, f"{agent}-base", self.ctx.home)  # each member's start
        members = []
        for i in range(n):
            model_spec = models[i % len(models)] if models else spec.model
            copy = copy_workdir(base, f"{agent}-{i}")
            event = log.emit(run_id, "ensemble_member", {"index": i, "model": model_spec,
                                                         "workdir": str(copy)},
                             parent=started, agent=caller.config.name)
            members.append((i, model_spec, copy, event))
        try:
            results = await asyncio.gather(*(
                self.run_agent(caller, event, spec, task, workdir=copy, model_spec=m,
                               label=f"{agent}[{i}]")
                for i, m, copy, event in members))
            checks: list[int | None] = [None] * n
            if select == "verify":
                checks = [await self._verify(str(verify_command), w) for _, _, w, _ in members]
            chosen, reason = await self._select(caller, select, task, results, checks)
            applied: dict[str, list[str]] = {"changed": [], "deleted": []}
            if chosen is not None:
                try:
                    changed, deleted = apply_changes(base, members[chosen][2], workdir,
                                                     self.ctx.home)
                except ValueError as exc:  # a change that would escape the work dir
                    raise ToolError(f"the chosen member's changes were not applied: {exc}"
                                    ) from None
                applied = {"changed": changed, "deleted": deleted}
            log.emit(run_id, "ensemble_selected", {"selected": chosen, "reason": reason,
                                                   **applied}, parent=started,
                     agent=caller.config.name)
        finally:
            for folder in [base, *(w for _, _, w, _ in members)]:
                shutil.rmtree(folder.parent, ignore_errors=True)
        return json.dumps({
            "selected": chosen, "reason": reason,
            "answer": results[chosen].answer if chosen is not None else None,
            "applied": applied,
            "candidates": [{"index": i, "model": members[i][1] or caller.config.model.name,
                            "stop_reason": r.stop_reason, "answer": (r.answer or "")[:500],
                            "verify_exit_code": checks[i], "cost_usd": round(r.usage.cost_usd, 6),
                            "steps": r.steps} for i, r in enumerate(results)],
        }, indent=1)

    # --- running one sub-agent ----------------------------------------------------------------

    async def run_agent(self, caller: AgentLoop, parent_event: int, spec: AgentSpec, task: str,
                        *, workdir: Path | None = None, model_spec: str | None = None,
                        label: str | None = None) -> RunResult:
        """Run `spec` on `task` as a child of `caller`; never raises for the sub-agent's sake."""
        name = label or spec.name
        if caller.depth + 1 > self.settings.max_depth:
            raise ToolError(f"maximum depth {self.settings.max_depth} reached: "
                            f"{caller.config.name} (depth {caller.depth}) cannot run agents")
        config = AgentConfig(
            name=name, model=self._model(caller, model_spec or spec.model),
            instructions=spec.instructions, tools=self._tools(caller, spec, workdir),
            settings=ModelSettings(temperature=caller.config.settings.temperature),
            max_format_errors=caller.config.max_format_errors,
            tool_timeout_s=caller.config.tool_timeout_s)
        limits = Limits(max_steps=self.settings.default_max_steps)
        if caller.depth > 0:  # nested: it runs inside its creator's slot (else it could deadlock)
            return await caller.run_child(config, task, parent_event=parent_event, limits=limits)
        async with self.slots:
            return await caller.run_child(config, task, parent_event=parent_event, limits=limits)

    def _tools(self, caller: AgentLoop, spec: AgentSpec, workdir: Path | None) -> Toolset:
        rebuilt: dict[str, Tool] = {}
        if workdir is not None and self.ctx.kit_tools_for is not None:
            rebuilt = {t.name: t for t in self.ctx.kit_tools_for(workdir)}
        tools = []
        for name in spec.tools:
            found = rebuilt.get(name) or caller.config.tools.get(name)
            if found is not None and workdir is not None:
                found = found.for_workdir(workdir)  # e.g. a written tool: runs in the copy
            if found is None:
                raise ToolError(f"agent {spec.name!r} needs the tool {name!r}, which "
                                f"{caller.config.name} does not have")
            tools.append(found)
        return Toolset(tools)

    def _spec(self, name: str) -> AgentSpec:
        spec = self.created.get(name) or self.library.get(name)
        if spec is None:
            raise ToolError(f"no agent named {name!r}; create it with create_agent, or see "
                            "list_agents")
        if spec.retired:
            raise ToolError(f"agent {name!r} is retired; create it again to use it")
        return spec

    def allowed_models(self, caller: AgentLoop) -> list[str]:
        return [caller.config.model.name, *self.settings.models,
                *self.ctx.settings.get("model_names", [])]

    def _check_model(self, caller: AgentLoop, model: str | None) -> None:
        if model is not None and model not in self.allowed_models(caller):
            raise ToolError(f"model {model!r} is not allowed here; allowed: "
                            f"{', '.join(self.allowed_models(caller))}")

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
        result = await self.ctx.sandbox().exec(command, workdir=workdir, timeout_s=600,
                                               limits=self.ctx.sandbox_limits)
        return result.exit_code if not result.timed_out else 124

    async def _select(self, caller: AgentLoop, select: str, task: str,
                      results: list[RunResult], checks: list[int | None]
                      ) -> tuple[int | None, str]:
        finished = [i for i, r in enumerate(results) if r.ok]
        by_cost = sorted(finished, key=lambda i: (results[i].usage.cost_usd, results[i].steps))
        if select == "verify":
            passing = [i for i in by_cost if checks[i] == 0]
            if not passing:
                return None, "no member's work passed the verify command"
            return passing[0], (f"{len(passing)} of {len(results)} passed the verify command; "
                                "the cheapest was taken")
        if not finished:
            return None, "no member finished"
        if select == "vote":
            groups: dict[str, list[int]] = {}
            for i in by_cost:
                groups.setdefault(normalize(results[i].answer), []).append(i)
            best = max(groups.values(), key=len)  # ties: the group whose cheapest is cheapest
            return best[0], f"{len(best)} of {len(results)} members gave this answer"
        return await self._judge(caller, task, results, finished)

    async def _judge(self, caller: AgentLoop, task: str, results: list[RunResult],
                     finished: list[int]) -> tuple[int | None, str]:
        candidates = "\n\n".join(f"[{i}] {results[i].answer}" for i in finished)
        prompt = (f"Task:\n{task}\n\nCandidate answers:\n\n{candidates}\n\nPick the best "
                  'answer. Reply with JSON only: {"choice": <number>, "reason": "<why>"}.')
        messages = [Message("system", "You judge candidate answers to a task, impartially."),
                    Message("user", prompt)]
        model = caller.config.model
        reply = await model.request(messages, [], ModelSettings(temperature=0))
        caller.usage.add(reply.usage)
        caller.budget.charge(steps=1, tokens=reply.usage.total_tokens,
                             cost_usd=reply.usage.cost_usd)
        caller.log.emit(caller.run_id, "ensemble_judged", {"reply": reply.message.content,
                                                           "usage": reply.usage.to_dict()},
                        agent=caller.config.name)
        try:
            text = reply.message.content
            verdict = json.loads(text[text.index("{"): text.rindex("}") + 1])
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
    raise ToolError(f"agent {result.agent} did not finish ({result.stop_reason}: "
                    f"{result.message}).{partial}")

