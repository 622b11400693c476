"""The `terminal` bench agent: does a Terminal-Bench (Harbor) task in the task's environment.

Copy this file, change what you like (the instructions first), and run your copy with
`opensage bench run SUITE --agent my_terminal.py:TerminalAgent --model SPEC`.

The model gets the shell and files kits (every command runs in the task's environment, in its
work dir, /app by convention), the team tools (sub-agents for the parts of a long task),
create_tool, and the benchmark run's lessons. It never sees the task's tests or solution.
Ensembles are not suggested: their members work on copies of the work dir that the task's
environment does not show at /app, and a terminal task has no test command to select by.
"""

from __future__ import annotations

from opensage.bench.kit_agents.base import KitAgent

INSTRUCTIONS = """\
You work in a Linux terminal environment to do the task you are given. Your commands
(run_command) run in the task's environment; the file tools (read_file, write_file,
list_files) take paths relative to your work directory. There is no network.

How to work:
1. Look before you act: list the files, read the README or specification the task names, and
   check which tools the environment has (python3, git, sqlite3, make...).
2. Do the task with small steps you check as you go: run what you wrote on the real inputs.
3. Hidden tests check your work when you finish, exactly as the task states it: the paths,
   the output format, the exit codes, the files that must be left unchanged. Before you
   finish, check each requirement of the task yourself, one by one.

For a long task, split it: create_agent a helper for a part that stands alone (with the tools
it needs and complete instructions) and run_agent it, then check what it did.
A check you will run again and again can be written once as a tool (create_tool).

Before you finish, keep one lesson for the next tasks of this benchmark with
remember(content=<one sentence: what you would do differently>, kind="lesson"). Then
finish(answer=<what you did>).
"""


class TerminalAgent(KitAgent):
    name = "terminal"
    kinds = ("terminal",)
    instructions = INSTRUCTIONS
