"""`Kit`: a named toolset an agent can be given, with what it holds for a run.

    class Notes(Kit):
        name = "notes"

        def tools(self, ctx: RunContext) -> list[Tool]:
            folder = ctx.workdir / "notes"

            def note(text: str) -> str:
                '''Keep a note.'''
                ...
            return [Tool(note)]

A kit builds its tools for a run's context (`tools`), and holds what they need for the run
(`session`: a store, a library, a server), closing it when the run ends. By default its tools
act on the run's work dir: an ensemble member gets the kit again, set up for its copy of the
work dir, so that nothing a member does lands in the real one unless it is chosen. A kit whose
tools do not (they act on the caller's agent, a store, a library) says so with
`acts_on_workdir = False` and is shared by the members as it is.

Two kits of a run may not give tools of the same name, unless one `supersedes` the other: the
`swe` kit's run_command (with a background mode) supersedes the `shell` kit's, so an agent given
both has the swe one (`merge_tools`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from opensage.core.context import RunContext
from opensage.core.tools import Tool
from opensage.errors import ConfigError


class Kit:
    name: str = ""  # how runs record it and how `Agent(kits=[...])` names it
    # Its tools act on the work dir, as the work dir was when they were built: an ensemble
    # member gets them built again for its copy. The safe default.
    acts_on_workdir: bool = True
    # Its tools can give the agent new tools as it runs (synthesis): the run's tools cannot
    # all be named in advance.
    adds_tools: bool = False
    # The kits whose tools of the same names this kit's replace when a run has both.
    supersedes: frozenset[str] = frozenset()

    def tools(self, ctx: RunContext) -> list[Tool]:
        """The kit's tools for a run (or an ensemble member's copy of the work dir)."""
        raise NotImplementedError(
            f"{type(self).__name__} defines neither tools(ctx) nor "
            "session(ctx): a kit needs one of them"
        )

    @asynccontextmanager
    async def session(self, ctx: RunContext) -> AsyncIterator[list[Tool]]:
        """Set the kit up for a run and yield its tools; what follows the `yield` runs when the
        run ends (before its end is recorded, acting for its root agent) or the ensemble member
        it was set up for does. Override it to open and close resources; by default it yields
        `tools(ctx)`."""
        yield self.tools(ctx)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def merge_tools(opened: Sequence[tuple[Kit, Sequence[Tool]]]) -> list[Tool]:
    """The tools of kits set up together, in order, as one list. Where two kits give tools of
    the same name, the tool of the kit that supersedes the other is kept (in the place of the
    first); any other clash is a ConfigError, raised before the run starts."""
    kept: dict[str, tuple[Kit, Tool]] = {}
    for kit, tools in opened:
        for tool in tools:
            if tool.name not in kept:
                kept[tool.name] = (kit, tool)
                continue
            other = kept[tool.name][0]
            if other.name in kit.supersedes:
                kept[tool.name] = (kit, tool)
            elif kit.name not in other.supersedes:
                raise ConfigError(
                    f"the kits {other.name!r} and {kit.name!r} both have a tool named "
                    f"{tool.name!r}: give the agent only one of them"
                )
    return [tool for _, tool in kept.values()]
