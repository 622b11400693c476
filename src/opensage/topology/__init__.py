"""The topology kit: the model builds, runs and retires its own team of agents.

    create_agent(name, instructions, tools, model=None, description="")
    run_agent(name, task, background=False)       -> the answer, or a handle
    wait_agents(handles, timeout_s=None)          -> answers
    list_agents(), retire_agent(name)
    ensemble(task, agent, n=3, models=None, select="verify"|"vote"|"judge", verify_command=None)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal

from opensage.core.context import current_call
from opensage.core.tools import Tool, WorkdirTool
from opensage.kits import KitContext
from opensage.topology.team import Team, TopologySettings

__all__ = ["Team", "TopologySettings", "topology_kit"]


def topology_kit(ctx: KitContext) -> list[Tool]:
    team = Team(ctx, TopologySettings.from_table(ctx.settings.get("topology", {})))

    async def create_agent(name: str, instructions: str, tools: list[str],
                           model: str | None = None, description: str = "") -> str:
        """Create a sub-agent you can then give tasks to. It is kept for later runs too.

        Args:
            name: a short name: letters, digits, _ or -.
            instructions: its system prompt: its role, how to work, what to return.
            tools: names of your own tools it may use (finish is always given).
            model: a model spec for it; by default, your model.
            description: one line saying what it is good for.
        """
        call = current_call()
        return team.create(call.loop, call.event, name, instructions, tools, model, description)

    async def run_agent(name: str, task: str, background: bool = False) -> str:
        """Give a task to an agent and return its answer. With background=True, return a
        handle at once and collect the answer later with wait_agents.

        Args:
            name: the agent.
            task: everything it needs to know: it does not see your conversation.
            background: run it concurrently with your next steps.
        """
        call = current_call()
        return await team.run(call.loop, call.event, name, task, background)

    async def wait_agents(handles: list[str], timeout_s: float | None = None) -> str:
        """Wait for background agents and return their answers (those still running say so).

        Args:
            handles: handles that run_agent returned.
            timeout_s: how long to wait at most; by default, until all are done.
        """
        return await team.wait(handles, timeout_s)

    async def list_agents() -> str:
        """List the agents you can run: created in this run or kept from earlier ones."""
        return team.listing()

    async def retire_agent(name: str) -> str:
        """Retire an agent you no longer need.

        Args:
            name: the agent.
        """
        call = current_call()
        return team.retire(call.loop, call.event, name)

    def ensemble_in(workdir: Path) -> Callable[..., Awaitable[str]]:
        async def ensemble(task: str, agent: str, n: int = 3, models: list[str] | None = None,
                           select: Literal["verify", "vote", "judge"] = "verify",
                           verify_command: str | None = None) -> str:
            """Run n copies of an agent on the same task at once, each in its own copy of the
            work dir, and keep the best: by a verify command that must pass (e.g. the tests),
            by a majority vote over the answers, or by a judge. The chosen copy's file changes
            are applied to the work dir.

            Args:
                task: the task, complete in itself.
                agent: the agent to copy.
                n: how many copies.
                models: model specs to spread over the copies; by default the agent's.
                select: verify, vote or judge.
                verify_command: for verify: a shell command that exits 0 for good work.
            """
            call = current_call()
            return await team.ensemble(call.loop, call.event, task, agent, n, models, select,
                                       verify_command, workdir)
        return ensemble

    tools = [*(Tool(f) for f in (create_agent, run_agent, wait_agents, list_agents,
                                 retire_agent)),
             WorkdirTool(ensemble_in, ctx.workdir)]  # in an ensemble member: on its copy
    # Name the tools an agent may be given in the schema itself: models (and constrained
    # decoding) then pick from what exists instead of inventing names.
    if not ctx.settings.get("dynamic_tools"):
        names = [*ctx.settings.get("tool_names", []), *(t.name for t in tools)]
        tools[0].schema.parameters["properties"]["tools"]["items"] = {"type": "string",
                                                                      "enum": names}
    return tools
