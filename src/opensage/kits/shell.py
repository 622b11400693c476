"""The `shell` kit: run commands in the work directory, always inside the run's sandbox."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from opensage.core.context import RunContext
from opensage.core.tools import Tool, truncate
from opensage.kits.base import Kit
from opensage.sandbox.base import ExecResult

MAX_TIMEOUT_S = 3600.0


def describe(result: ExecResult, timeout_s: float) -> str:
    """A command's result as the model reads it."""
    head = f"exit code {result.exit_code}"
    if result.timed_out:
        head += f" (killed: it ran past its {timeout_s:g} s timeout)"
    elif result.limit:
        head += f" (stopped by the sandbox's {result.limit} limit)"
    return "\n".join([head, *output_sections(result.stdout, result.stderr)])


def output_sections(stdout: str, stderr: str, limit: int | None = None) -> list[str]:
    """A command's output as the model reads it: a `--- stdout ---` and a `--- stderr ---`
    section for each that printed anything, each cut to `limit` characters if given."""
    parts = []
    for name, text in (("stdout", stdout), ("stderr", stderr)):
        if text.strip():
            text = text.rstrip()
            parts.append(f"--- {name} ---\n{truncate(text, limit) if limit else text}")
    return parts


class ShellKit(Kit):
    """run_command in the work dir the kit was set up for (an ensemble member's copy, for its
    tools)."""

    name = "shell"

    def tools(self, ctx: RunContext) -> list[Tool]:
        return [Tool(_run_command_in(ctx))]


def _run_command_in(ctx: RunContext) -> Callable[[str, float], Awaitable[str]]:
    async def run_command(command: str, timeout_s: float = 120.0) -> str:
        """Run a shell command in the work directory and return its exit code and output.
        It runs in a sandbox: no network, and only the work directory is writable.

        Args:
            command: the command line, run by /bin/sh.
            timeout_s: seconds before the command is killed (at most 3600).
        """
        timeout_s = max(1.0, min(timeout_s, MAX_TIMEOUT_S))
        result = await ctx.sandbox().exec(
            command, workdir=ctx.workdir, timeout_s=timeout_s, limits=ctx.config.sandbox_limits
        )
        return describe(result, timeout_s)

    return run_command
