"""`KitAgent`: what the swe, swe-guided, terminal and poc bench agents share.

A kit agent is an OpenSage `Agent` run once per task: its instructions (a constant of the agent's
file), the kits the task's kind calls for plus topology (sub-agents, ensembles), synthesis
(tools the model writes) and memory (the benchmark run's lessons, see `lessons`), every command
in the task's sandbox, on the task's work dir. Its run is recorded in OpenSage's home like any
other (`opensage runs show RUN_ID`), and what it spent goes to the results table. The
sub-agents it creates and the tools it writes go to the home's libraries too, as any run's do
(`opensage agents list`, `opensage tools list`), where later runs can find them: for a
measurement that starts from nothing, point OPENSAGE_HOME at a fresh folder. Its lessons do
not: they are the benchmark run's own (see `lessons`).

A subclass sets `name`, `kinds` and `instructions`, and may change `describe` (the task as the
model is told it), `prompt` (that, where it works and the lessons recalled), `kits`,
`max_steps`, `time_share`, `opening` or `tool_choice`.
"""

from __future__ import annotations

import asyncio

from opensage.agent import Agent
from opensage.bench.agents import AgentOutcome, AgentTask
from opensage.bench.kit_agents.lessons import Lessons
from opensage.core.loop import RunResult
from opensage.kits import Kit
from opensage.models.base import ModelSettings

# Kits every kit agent has, besides those of the task's kind (`AgentTask.kits`).
TEAM_KITS = ("topology", "synthesis")


class KitAgent:
    name = ""
    kinds: tuple[str, ...] = ()  # the task kinds it is written for
    instructions = ""  # the system prompt
    max_steps = 80  # the root agent's model calls; sub-agents have the [topology] limit
    # The share of the task's time the agent plans to use: it stops by itself a little before
    # the harness would cancel it, so that its run ends recorded and its usage is counted.
    time_share = 0.95
    opening: tuple[str, ...] = ()  # tools the model must call first, in order (AgentOptions)
    # "auto": a reply without a call ends the run as its answer; "required": every reply must
    # call a tool (finish included), which a local model's grammar then enforces.
    tool_choice = "auto"

    def __init__(self) -> None:
        self.lessons = Lessons()

    def describe(self, task: AgentTask) -> str:
        """The task as the model is told it."""
        return task.prompt.strip()

    def prompt(self, task: AgentTask, lessons: list[str]) -> str:
        """What the model is told: the task, where it works, and the lessons recalled."""
        parts = [
            self.describe(task),
            f"Your work directory is {task.cwd}: your commands start there, and your tools "
            "take paths relative to it (write `src/app.py`, not the whole path).",
        ]
        if lessons:
            parts.append(
                "Lessons from earlier tasks of this benchmark (they may not apply here):\n"
                + "\n".join(f"- {lesson}" for lesson in lessons)
            )
        return "\n\n".join(parts)

    def kits(self, task: AgentTask) -> list[str | Kit]:
        return [*task.kits, *TEAM_KITS, self.lessons.kit(task)]

    async def solve(self, task: AgentTask) -> AgentOutcome:
        if self.kinds and task.kind not in self.kinds:
            raise ValueError(
                f"the {self.name} agent is written for {' and '.join(self.kinds)} tasks, and "
                f"{task.task_id} is a {task.kind} task: run it with --agent {task.kind}"
            )
        agent = Agent(
            self.name,
            self.instructions,
            model=task.model,  # None: the configured default, as `opensage run` picks it
            kits=self.kits(task),
            sandbox=task.sandbox,
            home=task.home,
            max_steps=self.max_steps,
            max_seconds=task.timeout_s * self.time_share,
            opening=self.opening,
            settings=ModelSettings(tool_choice=self.tool_choice),
        )
        lessons = await asyncio.to_thread(self.lessons.recall, task)  # a store opens
        result = await agent.run(self.prompt(task, lessons), workdir=task.workdir)
        return outcome(result)


def outcome(result: RunResult) -> AgentOutcome:
    """What the results table shows of a run: its answer (or why it stopped), id and usage."""
    said = result.answer if result.ok else f"{result.stop_reason}: {result.message}"
    return AgentOutcome(
        answer=said,
        run_id=result.run_id,
        steps=result.steps,
        input_tokens=result.usage.input_tokens,
        output_tokens=result.usage.output_tokens,
        cost_usd=result.usage.cost_usd,
    )
