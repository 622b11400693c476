"""The six configurations of the ablation (benchmarks/ablation.py): one bench agent each, for
SWE and terminal tasks alike, differing only in the features the model is given and told of.

    plain       the task's kits (swe; or shell and files), nothing else
    subagents   + create_agent, run_agent, wait_agents, list_agents, retire_agent
    ensembles   + create_agent, list_agents, ensemble (an ensemble copies an agent, so the model
                  must define one; it cannot run it alone)
    synthesis   + create_tool, search_tools, list_tools
    memory      + remember, recall, ask_memory, and the lessons of earlier tasks in the prompt
    everything  all of the above

Each comes with one of two procedures for SWE tasks (ABLATION_PROCEDURE):

    free        the SWE kit's editing tools (str_replace...), the model chooses each step
    guided      for small models: the procedure of the swe-guided agent
                (opensage/bench/kit_agents/guided.py): a fixed opening, choices for paths and
                names, whole-function edits checked by the tests, finish refused while they
                fail

Run one with `opensage bench run SUITE --agent benchmarks/ablation_agents.py:Plain --model SPEC`.
ABLATION_MAX_STEPS and ABLATION_TIMEOUT (seconds) set the budget: the root agent's model calls,
and the time it gives itself (at most the task's own).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from opensage.bench.agents import AgentOutcome, AgentTask
from opensage.bench.kit_agents.base import KitAgent
from opensage.bench.kit_agents.guided import INSTRUCTIONS as GUIDED
from opensage.bench.kit_agents.guided import OPENING as GUIDED_OPENING
from opensage.bench.kit_agents.guided import GuidedSweKit, guided_prompt
from opensage.bench.swe import DEFAULT_TEST_CMD
from opensage.core.context import RunContext
from opensage.core.tools import Tool
from opensage.kits import Kit
from opensage.topology import TopologyKit

SUBAGENT_TOOLS = {"create_agent", "run_agent", "wait_agents", "list_agents", "retire_agent"}
ENSEMBLE_TOOLS = {"create_agent", "list_agents", "ensemble"}

BASE = {
    "swe": """\
You are a software engineer. The repository in your work directory has a bug that an issue
describes; fix it in the library code.
1. Find the code the issue is about (search, view).
2. Fix the cause with the smallest change (str_replace). Never edit the tests.
3. Run the tests (run_tests) until they pass.
Then finish(answer=<what was wrong and what you changed>).""",
    "terminal": """\
You work in a Linux terminal environment to do the task you are given. Your commands
(run_command) run in the task's environment; the file tools (read_file, write_file,
list_files) take paths relative to your work directory. There is no network.
1. Look before you act: list the files and read what the task names.
2. Do the task in small steps; run what you wrote on the real inputs.
3. Hidden tests check exactly what the task states (paths, output format): check each
   requirement yourself.
Then finish(answer=<what you did>).""",
}

FEATURES = {
    "subagents": """\
You can split the work: create_agent a helper (with the tools it needs and complete
instructions), run_agent it with a task, then check what it did.""",
    "ensembles": """\
When unsure which change is right, let attempts compete: create_agent a "fixer" given your
editing and checking tools, then ensemble(task=<everything it needs>, agent="fixer", n=2,
select="verify", verify_command=<a command that exits 0 only when the work is right, e.g. the
tests>). The change that passes is applied to your work directory.""",
    "synthesis": """\
A check you will run again and again can be written once as a tool (create_tool).""",
    "memory": """\
Before you finish, keep one lesson for the next tasks with remember(content=<one sentence:
what would have helped>, kind="lesson").""",
}


class TeamKit(TopologyKit):
    """The topology kit with only some of its tools: sub-agents without ensembles, or
    ensembles without running an agent alone."""

    def __init__(self, keep: set[str]):
        super().__init__()
        self.keep = keep

    @asynccontextmanager
    async def session(self, ctx: RunContext) -> AsyncIterator[list[Tool]]:
        async with super().session(ctx) as tools:
            dropped = {t.name for t in tools} - self.keep
            kept = [t for t in tools if t.name in self.keep]
            for tool in kept:  # create_agent's schema names the tools it may give: not these
                items = tool.schema.parameters["properties"].get("tools", {}).get("items", {})
                if "enum" in items:
                    items["enum"] = [n for n in items["enum"] if n not in dropped]
            yield kept


class Ablated(KitAgent):
    """A kit agent given the task's kits and `features` only, told only of those."""

    features: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__()
        self.max_steps = int(os.environ.get("ABLATION_MAX_STEPS", "12"))
        self.procedure = os.environ.get("ABLATION_PROCEDURE", "free")
        if self.procedure not in ("free", "guided"):
            raise ValueError(f"ABLATION_PROCEDURE is free or guided, not {self.procedure!r}")

    def guided(self, task: AgentTask) -> bool:
        return self.procedure == "guided" and task.kind == "swe"

    def instructions_for(self, task: AgentTask) -> str:
        base = GUIDED if self.guided(task) else BASE[task.kind]
        return "\n\n".join([base, *(FEATURES[f] for f in self.features)])

    def kits(self, task: AgentTask) -> list[str | Kit]:
        team = set()
        if "subagents" in self.features:
            team |= SUBAGENT_TOOLS
        if "ensembles" in self.features:
            team |= ENSEMBLE_TOOLS
        kits: list[str | Kit] = list(task.kits)
        if self.guided(task):
            kits = [GuidedSweKit() if k == "swe" else k for k in kits]
        if team:
            kits.append(TopologyKit() if team >= SUBAGENT_TOOLS | ENSEMBLE_TOOLS else TeamKit(team))
        if "synthesis" in self.features:
            kits.append("synthesis")
        if "memory" in self.features:
            kits.append(self.lessons.kit(task))
        return kits

    def describe(self, task: AgentTask) -> str:
        if task.kind != "swe":
            return super().describe(task)
        command = task.test_command or DEFAULT_TEST_CMD
        return f"The issue:\n\n{task.prompt.strip()}\n\nThe tests run with `{command}`."

    def prompt(self, task: AgentTask, lessons: list[str]) -> str:
        lessons = lessons if "memory" in self.features else []
        if self.guided(task):
            return guided_prompt(task, self.describe(task), lessons)
        return super().prompt(task, lessons)

    async def solve(self, task: AgentTask) -> AgentOutcome:
        if task.kind not in BASE:
            raise ValueError(f"the ablation agents do {' and '.join(BASE)} tasks, not {task.kind}")
        # KitAgent.solve reads the instructions before its first await, so setting them here
        # is safe with several tasks at once.
        self.instructions = self.instructions_for(task)
        self.opening = GUIDED_OPENING if self.guided(task) else ()
        self.tool_choice = "required" if self.guided(task) else "auto"
        timeout = float(os.environ.get("ABLATION_TIMEOUT", task.timeout_s))
        return await super().solve(replace(task, timeout_s=min(task.timeout_s, timeout)))


class Plain(Ablated):
    name = "plain"


class SubAgents(Ablated):
    name = "subagents"
    features = ("subagents",)


class Ensembles(Ablated):
    name = "ensembles"
    features = ("ensembles",)


class Synthesis(Ablated):
    name = "synthesis"
    features = ("synthesis",)


class Memory(Ablated):
    name = "memory"
    features = ("memory",)


class Everything(Ablated):
    name = "everything"
    features = ("subagents", "ensembles", "synthesis", "memory")


CONFIGS: dict[str, type[Ablated]] = {
    c.name: c for c in (Plain, SubAgents, Ensembles, Synthesis, Memory, Everything)
}
