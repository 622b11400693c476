"""The `swe-guided` bench agent: a strict procedure for small local models on SWE tasks.

Models of 0.5-1.5B parameters given the SWE kit's tools and left to choose (the `swe` agent)
fixed nothing: they re-ran the tests, copied paths and error messages into arguments, made up
optional arguments, quoted code wrongly for str_replace, answered in text, and finished with the
tests failing. This agent takes those choices away:

- its opening is fixed: run_tests, then symbols(name) (a function's code), then
  rewrite_function(code), each forced in turn; after it every reply must still call a tool;
- its tools show their required arguments only, and where a tool takes a file or a function,
  the ones in the repository are its schema's choices, so that a grammar lets the model name
  nothing else (symbols is offered the functions outside the tests);
- an edit is a whole function (rewrite_function), checked by the tests: a rewrite that breaks
  a passing test is taken back, showing what changed; the kit's other editing tools are left out;
- finish is refused while the tests fail;
- the prompt lists the repository's files instead of the work dir's path.

It suits a repository with a failing test that shows the bug (the bug-fix suite); on an issue
without one it still works, with less to go on. Copy this file to change the procedure, and run
your copy with `--agent my_guided.py:SweGuidedAgent`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from opensage.bench.agents import AgentTask
from opensage.bench.kit_agents.base import KitAgent
from opensage.bench.swe import DEFAULT_TEST_CMD
from opensage.core.context import RunContext
from opensage.core.tools import Tool, ToolError
from opensage.kits import Kit
from opensage.kits.swe import SweKit
from opensage.kits.swe.code_index import CodeIndex
from opensage.kits.swe.rewrite import FUNCTION_KINDS, TESTS_TIMEOUT_S
from opensage.kits.swe.tests import test_report
from opensage.kits.swe.tree import Tree
from opensage.kits.swe.workspace import Workspace
from opensage.models.profiles import required_only

INSTRUCTIONS = """\
You are a software engineer. The repository in your work directory has a bug; fix it in the
library code. Work in this order:
1. run_tests: which test fails, and why.
2. symbols(name): the code of the function that the failing test calls.
3. rewrite_function(code): that whole function, fixed, from its `def` line to its last line.
   The tests run before and after: a rewrite that breaks a passing test is taken back.
4. When the tests pass, finish(answer=<what was wrong and what you changed>); if they still
   fail, look again and rewrite again. Never edit the tests."""
OPENING = ("run_tests", "symbols", "rewrite_function")
SWE_TOOLS = frozenset({"view", "search", "symbols", "run_tests", "rewrite_function"})
MAX_CHOICES = 400  # files or functions past this: the argument stays free text


class GuidedSweKit(Kit):
    """The SWE kit as the procedure gives it (see the module's docstring), with its own
    finish."""

    name, supersedes = SweKit.name, SweKit.supersedes

    @asynccontextmanager
    async def session(self, ctx: RunContext) -> AsyncIterator[list[Tool]]:
        async with SweKit().session(ctx) as tools:
            home = [ctx.config.home]  # never offered, were it inside the work dir
            sources = await asyncio.to_thread(CodeIndex().files, ctx.workdir, ctx.workdir, home)
            functions = sorted(
                {
                    s.qualified
                    for rel, entry in sources
                    if not is_test_file(rel)
                    for s in entry.symbols
                    if s.kind in FUNCTION_KINDS
                }
            )
            choices = {
                ("view", "path"): [rel for rel, _ in sources],
                ("symbols", "name"): functions,
            }
            kept = [t for t in tools if t.name in SWE_TOOLS]
            for tool in kept:
                given = tool.schema.parameters.get("properties", {})
                tool.schema = required_only(tool.schema)
                for (name, argument), values in choices.items():
                    if name == tool.name and 0 < len(values) <= MAX_CHOICES:
                        _choose(tool, argument, values, given[argument].get("description", ""))
            yield [*kept, checked_finish(ctx)]


def _choose(tool: Tool, argument: str, values: list[str], description: str) -> None:
    """Make `argument` required, one of `values`."""
    parameters = tool.schema.parameters
    parameters.setdefault("properties", {})[argument] = {
        "type": "string",
        "description": description,
        "enum": values,
    }
    required = parameters.setdefault("required", [])
    if argument not in required:
        required.append(argument)


def checked_finish(ctx: RunContext) -> Tool:
    """finish, refused while the tests fail (the 0.5B finished on failing tests, with an
    error message as its answer): the agent's own, so the loop adds no other."""
    sandbox, limits = ctx.sandbox(), ctx.config.sandbox_limits

    async def finish(answer: str) -> str:
        """Finish the task and give the final answer, once the tests pass.

        Args:
            answer: what was wrong and what you changed.
        """
        try:
            report = await test_report(sandbox, ctx.workdir, None, TESTS_TIMEOUT_S, limits=limits)
        except ToolError:  # no runner found: nothing to hold the answer to
            return answer
        if report.count("failed") or report.count("error"):
            raise ToolError(
                f"Not finished: the tests still fail ({report.summary()}). Fix the function "
                "the failing test calls with rewrite_function first.\n" + report.render(2_000)
            )
        return answer

    return Tool(finish)


def is_test_file(rel: str) -> bool:
    parts = Path(rel).parts
    name = parts[-1]
    in_tests = bool({"tests", "test"} & set(parts[:-1]))
    return in_tests or name.startswith("test_") or name.endswith(("_test.py", "_test.go"))


def guided_prompt(task: AgentTask, described: str, lessons: list[str]) -> str:
    """The task, then the repository's files instead of the work dir's absolute path (small
    models copied the path, wrongly, into every argument), then the lessons recalled."""
    files = Tree(Workspace(task.workdir, task.home)).render(task.workdir)
    parts = [described, f"The repository's files (your tools take these paths):\n{files}"]
    if lessons:
        parts.append("Lessons from earlier tasks:\n" + "\n".join(f"- {x}" for x in lessons))
    return "\n\n".join(parts)


class SweGuidedAgent(KitAgent):
    name = "swe-guided"
    kinds = ("swe",)
    instructions = INSTRUCTIONS
    opening = OPENING
    tool_choice = "required"
    max_steps = 30

    def describe(self, task: AgentTask) -> str:
        command = task.test_command or DEFAULT_TEST_CMD
        return f"The issue:\n\n{task.prompt.strip()}\n\nThe tests run with `{command}`."

    def prompt(self, task: AgentTask, lessons: list[str]) -> str:
        return guided_prompt(task, self.describe(task), lessons)

    def kits(self, task: AgentTask) -> list[str | Kit]:
        return [GuidedSweKit()]  # nothing else to choose from
