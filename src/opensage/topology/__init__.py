"""The topology kit: the model builds, runs and retires its own team of agents.

create_agent(name, instructions, tools, model=None, description="")
run_agent(name, task, background=False)       -> the answer, or a handle
wait_agents(handles, timeout_s=None)          -> answers
list_agents(), retire_agent(name)
ensemble(task, agent, n=3, models=None, select="verify"|"vote"|"judge", verify_command=None)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

from opensage.config import TopologySettings
from opensage.core.context import RunContext
from opensage.core.tools import Tool
from opensage.kits.base import Kit
from opensage.topology.team import Team

__all__ = ["Team", "TopologyKit", "TopologySettings"]


class TopologyKit(Kit):
    """The team tools. Settings: those given, else the config's [topology]."""

    name = "topology"
    # Its tools act on their caller's agent; an ensemble reads the work dir from its call.
    acts_on_workdir = False

    def __init__(self, settings: TopologySettings | None = None):
        self.settings = settings

    @asynccontextmanager
    async def session(self, ctx: RunContext) -> AsyncIterator[list[Tool]]:
        team = Team(ctx, self.settings or ctx.config.topology)
        try:
            yield team_tools(team, ctx.tool_names)
        finally:
            await team.close()


def team_tools(team: Team, tool_names: tuple[str, ...] | None) -> list[Tool]:
    """The tools over `team`; `tool_names`, the tools an agent may be given (None: not known
    in advance), are named in create_agent's schema."""

    async def create_agent(
        name: str,
        instructions: str,
        tools: list[str],
        model: str | None = None,
        description: str = "",
        *,
        ctx: RunContext,
    ) -> str:
        """Create a sub-agent you can then give tasks to. It is kept for later runs too.

        Args:
            name: a short name: letters, digits, _ or -.
            instructions: its system prompt: its role, how to work, what to return.
            tools: names of your own tools it may use (finish is always given).
            model: a model spec for it; by default, your model.
            description: one line saying what it is good for.
        """
        return team.create(ctx, name, instructions, tools, model, description)

    async def run_agent(name: str, task: str, background: bool = False, *, ctx: RunContext) -> str:
        """Give a task to an agent and return its answer. With background=True, return a
        handle at once and collect the answer later with wait_agents.

        Args:
            name: the agent.
            task: everything it needs to know: it does not see your conversation.
            background: run it concurrently with your next steps.
        """
        return await team.run(ctx, name, task, background)

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

    async def retire_agent(name: str, *, ctx: RunContext) -> str:
        """Retire an agent you no longer need.

        Args:
            name: the agent.
        """
        return team.retire(ctx, name)

    async def ensemble(
        task: str,
        agent: str,
        n: int = 3,
        models: list[str] | None = None,
        select: Literal["verify", "vote", "judge"] = "verify",
        verify_command: str | None = None,
        *,
        ctx: RunContext,
    ) -> str:
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
        return await team.ensemble(ctx, task, agent, n, models, select, verify_command)

    tools = [
        Tool(f) for f in (create_agent, run_agent, wait_agents, list_agents, retire_agent, ensemble)
    ]
    # Name the tools an agent may be given in the schema itself: models (and constrained
    # decoding) then pick from what exists instead of inventing names.
    if tool_names is not None:
        names = [*tool_names, *(t.name for t in tools)]
        tools[0].schema.parameters["properties"]["tools"]["items"] = {
            "type": "string",
            "enum": names,
        }
    return tools
