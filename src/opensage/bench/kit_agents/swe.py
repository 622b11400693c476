"""The `swe` bench agent: fixes the issue of an SWE task in its repository.

Copy this file, change what you like (the instructions first), and run your copy with
`opensage bench run SUITE --agent my_swe.py:SweAgent --model SPEC`.

The model gets the SWE kit (view, edit, search, run_tests, diff...), the team tools (create
sub-agents, run an ensemble whose members' fixes are checked by the tests), create_tool, and the
benchmark run's lessons (recalled into the prompt; remember/recall as tools). It never sees the
reference patch or the hidden tests: only the issue and the repository.
"""

from __future__ import annotations

from opensage.bench.agents import AgentTask
from opensage.bench.kit_agents.base import KitAgent
from opensage.bench.swe import DEFAULT_TEST_CMD  # an instance that names no test command's

INSTRUCTIONS = """\
You are a software engineer. The repository in your work directory has a bug that an issue
describes; fix it in the library code, as a maintainer would.

How to work:
1. Find the code the issue is about: search, symbols and view; read the tests near it.
2. Reproduce the bug before changing anything: run the case the issue gives (run_command), or
   a small test that fails.
3. Fix the cause with the smallest change that keeps the public API (str_replace). Never edit
   the existing tests to make them pass.
4. Run the tests (run_tests) until they pass, then read diff() to check the whole change.

When you are unsure which fix is right, let attempts compete: create_agent a "fixer" given
your editing and testing tools, then call ensemble(task=<the issue and what you found>,
agent="fixer", n=2, select="verify", verify_command=<the test command, narrowed to the tests
that show the bug>). A fix that passes is applied to your work directory.
A check you will run again and again can be written once as a tool (create_tool).

Before you finish: remove scratch files you made, and keep one lesson for the next tasks of
this benchmark with remember(content=<one sentence: what would have found the fix sooner>,
kind="lesson"). Then finish(answer=<what was wrong and what you changed>).
"""


class SweAgent(KitAgent):
    name = "swe"
    kinds = ("swe",)
    instructions = INSTRUCTIONS

    def describe(self, task: AgentTask) -> str:
        command = task.test_command or DEFAULT_TEST_CMD
        return (
            f"The issue:\n\n{task.prompt.strip()}\n\n"
            f"The project's tests run with `{command}` from the repository's root."
        )
