"""The SWE kit wired as a kit (`kits=["swe"]`, `opensage run --kit swe`): its tools' contract,
a scripted agent that fixes a failing test through the CLI, the whole kit through an Agent (in
bwrap, and slow, in the container backend), ensemble members each on its own copy with its own
diff, background processes that end with the run, the shell kit's run_command superseded, and
answers that stay under the loop's cut."""

from __future__ import annotations

import asyncio
import json
import os
import re
import textwrap
import threading
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from opensage import Agent, Kit, RunContext, Tool
from opensage.cli import app
from opensage.core.context import RunShared
from opensage.errors import ConfigError
from opensage.kits import make_kit
from opensage.kits.swe import SweKit, code
from opensage.models import ScriptedModel, tool_call
from opensage.models.scripted import FunctionModel
from opensage.sandbox import Sandbox
from tests.contexts import run_context
from tests.kits.contract import REQUIRED, check_contract, results
from tests.topology.conftest import call, team_model

LOOP_CUT = 16_000  # the agent loop cuts longer tool outputs

# The contract: each tool's arguments, in order, with their defaults (REQUIRED: none).
CONTRACT: dict[str, dict[str, Any]] = {
    "view": {"path": REQUIRED, "view_range": None},
    "create_file": {"path": REQUIRED, "file_text": REQUIRED},
    "str_replace": {"path": REQUIRED, "old_str": REQUIRED, "new_str": REQUIRED},
    "insert": {"path": REQUIRED, "insert_line": REQUIRED, "new_str": REQUIRED},
    "undo_edit": {"path": REQUIRED},
    "rewrite_function": {"code": REQUIRED, "name": None, "path": None},
    "apply_patch": {"patch": REQUIRED},
    "search": {
        "pattern": REQUIRED,
        "path": ".",
        "glob": None,
        "fixed_strings": False,
        "context": 0,
        "max_results": 100,
    },
    "symbols": {"path": ".", "name": None},
    "references": {"name": REQUIRED, "path": "."},
    "run_tests": {"tests": None, "timeout_s": 900},
    "debug": {"command": REQUIRED, "breakpoints": REQUIRED, "expressions": None, "timeout_s": 120},
    "diff": {},
    "run_command": {"command": REQUIRED, "timeout_s": 120, "background": False},
    "read_output": {"handle": REQUIRED},
    "kill_process": {"handle": REQUIRED},
}

CALC = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
TEST_CALC = textwrap.dedent("""\
    from calc import add, mul


    def test_add():
        assert add(2, 3) == 5


    def test_mul():
        assert mul(2, 3) == 6
    """)


def make_package(root: Path) -> Path:
    """A Python package with a failing test: add subtracts."""
    (root / "calc").mkdir(parents=True)
    (root / "calc" / "__init__.py").write_text(CALC)
    (root / "test_calc.py").write_text(TEST_CALC)
    (root / ".gitignore").write_text("*.log\n")
    return root


def context(workdir: Path, home: Path, sandbox: Sandbox) -> RunContext:
    ctx = run_context(workdir, home)
    return replace(ctx, shared=RunShared(lambda: sandbox))


@asynccontextmanager
async def swe_tools(workdir: Path, home: Path, sandbox: Sandbox):
    async with SweKit().session(context(workdir, home, sandbox)) as tools:
        yield {t.name: t for t in tools}


async def use(tools: dict[str, Tool], tool: str, /, **args: Any) -> str:
    return str(await tools[tool].invoke(args))


# --- the contract ---------------------------------------------------------------------------


def test_every_tool_has_the_contract_name_and_arguments(bwrap, tmp_path, home):
    assert isinstance(make_kit("swe"), SweKit)

    async def schemas() -> dict[str, dict[str, Any]]:
        async with swe_tools(tmp_path, home, bwrap) as tools:
            return {name: t.schema.parameters for name, t in tools.items()}

    check_contract(asyncio.run(schemas()), CONTRACT)


# --- a scripted agent fixes a failing test, through the CLI ------------------------------------


def test_a_scripted_agent_fixes_a_failing_test_through_the_cli(home, tmp_path):
    work = make_package(tmp_path / "work")
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            [
                tool_call("run_tests"),
                tool_call("str_replace", path="calc/__init__.py", old_str="a - b", new_str="a + b"),
                tool_call("run_tests"),
                tool_call("diff"),
                tool_call("finish", answer="add() fixed"),
            ]
        )
    )
    res = CliRunner().invoke(
        app,
        [
            "run",
            "fix the failing test",
            "--kit",
            "swe",
            "--model",
            f"scripted:{script}",
            "--workdir",
            str(work),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    run = json.loads(res.stdout)
    assert (run["answer"], run["stop_reason"]) == ("add() fixed", "finished")
    (first, ok1, failing), (edit, ok2, edited), (second, ok3, passing), (name, ok4, patch) = (
        results(home, run["run_id"])[:4]
    )
    assert (first, edit, second, name) == ("run_tests", "str_replace", "run_tests", "diff")
    assert ok1 and ok2 and ok3 and ok4
    # The failure, precisely: its id, its message and where.
    lines = failing.splitlines()
    assert lines[0] == "1 passed, 1 failed"
    assert "FAILED test_calc.py::test_add" in lines
    assert "    assert -1 == 5" in lines
    assert "    at test_calc.py:5 in test_add" in lines
    assert "    2\t    return a + b" in edited
    assert passing.splitlines()[0] == "2 passed, 0 failed"
    assert patch.startswith("diff --git a/calc/__init__.py b/calc/__init__.py")
    assert "-    return a - b\n+    return a + b\n" in patch
    assert patch.count("diff --git") == 1  # no cache or report left behind in the patch
    assert (work / "calc" / "__init__.py").read_text() == CALC.replace("a - b", "a + b")
    assert sorted(os.listdir(work)) == [".gitignore", "calc", "test_calc.py"]


# --- the whole kit through an Agent -----------------------------------------------------------

PATCH = """\
--- a/calc/__init__.py
+++ b/calc/__init__.py
@@ -4,2 +4,6 @@
 def mul(a, b):
     return a * b
+
+
+def twice(a):
+    return mul(a, 2)
"""
LOOP = "i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done"


def main_path(work: Path, sandbox: str | Sandbox) -> dict[str, str]:
    """Every tool of the kit once, through an Agent; what each gave the model, by name (the
    last call of a name)."""
    make_package(work)
    steps = [
        tool_call("view", path="."),
        tool_call("view", path="calc/__init__.py", view_range=[1, 2]),
        tool_call("search", pattern="return a . b", path="calc"),
        tool_call("symbols", path="calc"),
        call("references", name="mul"),
        tool_call("run_tests", tests=["test_calc.py::test_add"]),
        tool_call(
            "debug",
            command="python3 -m pytest -q test_calc.py::test_add",
            breakpoints=["calc/__init__.py:2"],
            expressions=["a", "b", "a - b"],
        ),
        tool_call("str_replace", path="calc/__init__.py", old_str="a - b", new_str="a + b"),
        tool_call("insert", path="calc/__init__.py", insert_line=0, new_str="# calc"),
        tool_call("undo_edit", path="calc/__init__.py"),
        tool_call("apply_patch", patch=PATCH),
        tool_call("create_file", path="notes.txt", file_text="fixed add\n"),
        tool_call("run_command", command=LOOP, background=True),
        tool_call("read_output", handle="bg1"),
        tool_call("kill_process", handle="bg1"),
        tool_call("run_command", command="python3 -c 'from calc import twice; print(twice(4))'"),
        tool_call("run_tests"),
        tool_call("diff"),
        tool_call("finish", answer="done"),
    ]
    model = ScriptedModel(steps)
    result = Agent("root", model=model, kits=["swe"], sandbox=sandbox).run_sync(
        "fix calc", workdir=work
    )
    assert result.stop_reason == "finished", result
    model.assert_exhausted()
    home = Path(os.environ["OPENSAGE_HOME"])
    outcomes = results(home, result.run_id)
    failed = [(name, text) for name, ok, text in outcomes if not ok]
    assert not failed, failed
    return {name: text for name, _, text in outcomes}


def check_main_path(given: dict[str, str], work: Path) -> None:
    assert given["view"].splitlines()[:2] == ["     1\tdef add(a, b):", "     2\t    return a - b"]
    assert re.findall(r"^\S+:\d+:", given["search"], re.M) == [
        "calc/__init__.py:2:",
        "calc/__init__.py:6:",
    ]
    assert "function add  [1-2]" in given["symbols"] and "function mul" in given["symbols"]
    assert "test_calc.py:1: from calc import add, mul" in given["references"]
    assert "calc/__init__.py:5: def mul(a, b):   (definition)" in given["references"]
    assert given["run_tests"].splitlines()[0] == "2 passed, 0 failed"
    hit = given["debug"]
    assert "hit 1 at calc/__init__.py:2 in add" in hit
    assert "    a = 2" in hit and "    b = 3" in hit and "    a - b = -1" in hit
    assert "Undid the last edit of calc/__init__.py" in given["undo_edit"]
    assert "calc/__init__.py" in given["apply_patch"]
    assert given["read_output"].startswith("bg1 is running") and "tick" in given["read_output"]
    assert given["kill_process"].startswith("bg1 was killed")
    assert given["run_command"].splitlines()[:3] == ["exit code 0", "--- stdout ---", "8"]
    patch = given["diff"]
    assert "-    return a - b\n+    return a + b" in patch
    assert "+def twice(a):" in patch and "+fixed add" in patch
    assert "# calc" not in patch  # the undone insert
    fixed = (work / "calc" / "__init__.py").read_text()
    assert fixed.startswith("def add(a, b):\n    return a + b")


def test_the_whole_kit_through_an_agent(tmp_path):
    work = tmp_path / "work"
    check_main_path(main_path(work, "bwrap"), work)


@pytest.mark.slow
def test_the_whole_kit_in_the_container_backend(container, tmp_path):
    work = tmp_path / "work"
    check_main_path(main_path(work, container), work)


# --- ensembles ------------------------------------------------------------------------------


def test_ensemble_members_edit_their_own_copies_and_diff_from_their_start(home, tmp_path):
    work = make_package(tmp_path / "work")
    fixes = iter(["a * b", "a + b"])  # the first member to edit gets it wrong
    member_diffs: list[str] = []

    def edit(messages):
        return call("str_replace", path="calc/__init__.py", old_str="a - b", new_str=next(fixes))

    def finish(messages):
        member_diffs.append(messages[-1].content)
        return "edited"

    model = team_model(
        {
            "ROOT": [
                call("create_file", path="NOTES.md", file_text="before the ensemble\n"),
                call(
                    "create_agent", name="fixer", instructions="FIX", tools=["str_replace", "diff"]
                ),
                call(
                    "ensemble",
                    task="make test_add pass",
                    agent="fixer",
                    n=2,
                    select="verify",
                    verify_command="python3 -m pytest -q",
                ),
                call("diff"),
                lambda m: call("finish", answer=m[-1].content),
            ],
            "FIX": [edit, call("diff"), finish, finish],
        }
    )
    result = Agent("root", "ROOT", model=model, kits=["topology", "swe", "shell"]).run_sync(
        "fix", workdir=work
    )
    assert result.stop_reason == "finished"
    ensemble = json.loads(
        next(text for name, _, text in results(home, result.run_id) if name == "ensemble")
    )
    # Each member's diff holds its own edit only: not the other's, not the root's NOTES.md.
    assert len(member_diffs) == 2
    by_fix = {("+" if "+    return a + b" in d else "*"): d for d in member_diffs}
    assert set(by_fix) == {"+", "*"}
    for diff_text in member_diffs:
        assert diff_text.count("diff --git") == 1 and "NOTES.md" not in diff_text
    assert "-    return a - b\n+    return a * b" in by_fix["*"]
    # The one that passes is chosen, and only its change lands in the work dir.
    chosen = ensemble["selected"]
    assert ensemble["candidates"][chosen]["verify_exit_code"] == 0
    assert ensemble["candidates"][1 - chosen]["verify_exit_code"] != 0
    assert (work / "calc" / "__init__.py").read_text() == CALC.replace("a - b", "a + b")
    # The root's diff runs from the run's start: its own NOTES.md and the chosen fix.
    assert "+before the ensemble" in result.answer and "+    return a + b" in result.answer
    assert "a * b\n+" not in result.answer


# --- background processes end with the run --------------------------------------------------


def running_with(marker: str) -> list[int]:
    """The host's processes whose command line holds `marker`."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            continue
    return found


def test_a_background_process_ends_with_the_run(tmp_path):
    marker = f"opensage-bg-{os.getpid()}-{id(tmp_path)}"
    seen_while_running: list[list[int]] = []

    def reply(messages, tools):
        step = sum(m.role == "assistant" for m in messages)
        if step == 0:
            return call("run_command", command=f"sleep 600 # {marker}", background=True)
        seen_while_running.append(running_with(marker))
        return call("finish", answer="left it running")

    # `sleep 600 # marker` runs as `/bin/sh -c 'sleep 600 # marker'`: the shell holds it.
    result = Agent("root", model=FunctionModel(reply), kits=["swe"]).run_sync(
        "start a server", workdir=tmp_path
    )
    assert result.stop_reason == "finished"
    assert seen_while_running and seen_while_running[0]  # it ran while the run did
    assert running_with(marker) == []  # and ended with it


# --- two kits with a run_command ------------------------------------------------------------


@pytest.mark.parametrize("kits", [["shell", "swe"], ["swe", "shell"]])
def test_the_swe_run_command_supersedes_the_shells(tmp_path, kits):
    model = ScriptedModel(
        [
            tool_call("run_command", command="echo $((6 * 7))", background=True),
            tool_call("read_output", handle="bg1"),
            tool_call("finish", answer="ok"),
        ]
    )
    agent = Agent("root", model=model, kits=kits)
    result = agent.run_sync("go", workdir=tmp_path)
    assert result.stop_reason == "finished"
    home = Path(os.environ["OPENSAGE_HOME"])
    (_, ok1, started), (_, ok2, read) = results(home, result.run_id)[:2]
    assert ok1 and started.startswith("started in the background as bg1")
    assert ok2 and "42" in started + read


class Reader(Kit):
    """A third party's kit with a tool named like the files kit's."""

    name = "reader"

    def tools(self, ctx: RunContext) -> list[Tool]:
        def read_file(path: str) -> str:
            """Read a file.

            Args:
                path: the file.
            """
            return path

        return [Tool(read_file)]


def test_two_kits_with_a_tool_of_the_same_name_are_refused_clearly(tmp_path):
    with pytest.raises(
        ConfigError, match="the kits 'files' and 'reader' both have a tool named 'read_file'"
    ):
        Agent(model=ScriptedModel([]), kits=["files", Reader()]).run_sync("x", workdir=tmp_path)

    def run_command(command: str) -> str:
        """Run it.

        Args:
            command: the command.
        """
        return command

    with pytest.raises(ConfigError, match="two tools are named 'run_command'"):
        Agent(model=ScriptedModel([]), tools=[run_command], kits=["swe"]).run_sync(
            "x", workdir=tmp_path
        )


# --- the loop is never blocked ---------------------------------------------------------------


def test_symbols_and_references_run_in_a_worker_thread(bwrap, tmp_path, home, monkeypatch):
    make_package(tmp_path)
    threads: list[int] = []
    for name in ("symbols", "references"):
        real = getattr(code, name)

        def spy(*args: Any, _real: Any = real, **kwargs: Any) -> str:
            threads.append(threading.get_ident())
            return str(_real(*args, **kwargs))

        monkeypatch.setattr(code, name, spy)

    async def go() -> tuple[str, str, int]:
        async with swe_tools(tmp_path, home, bwrap) as tools:
            return (
                await use(tools, "symbols"),
                await use(tools, "references", name="add"),
                threading.get_ident(),
            )

    mapped, used, loop_thread = asyncio.run(go())
    assert "function add" in mapped and "test_calc.py:1:" in used
    assert len(threads) == 2 and loop_thread not in threads


# --- answers stay under the loop's cut ------------------------------------------------------


def long_lines(n: int, width: int = 150, word: str = "needle") -> str:
    return "".join(f"value_{i} = '{word} {'x' * width}'\n" for i in range(n))


def test_long_answers_stay_under_the_cut_and_say_how_to_read_the_rest(bwrap, tmp_path, home):
    work = make_package(tmp_path / "work")
    (work / "big.py").write_text(long_lines(3000))

    async def go() -> dict[str, str]:
        async with swe_tools(work, home, bwrap) as tools:
            got = {
                "view": await use(tools, "view", path="big.py"),
                "search": await use(tools, "search", pattern="needle", max_results=1000),
                "run_command": await use(
                    tools, "run_command", command="cat big.py big.py; echo the-end"
                ),
            }
            (work / "big.py").write_text(long_lines(3000, word="changed"))
            for i in range(40):
                (work / f"gen_{i:02}.py").write_text(long_lines(20))
            got["diff"] = await use(tools, "diff")
            return got

    got = asyncio.run(go())
    for name, text in got.items():
        assert len(text) < LOOP_CUT, (name, len(text))
    assert re.search(r"view_range=\[\d+, \d+\] shows the next ones", got["view"])
    assert got["search"].startswith("3000 matching lines in 1 file")
    assert "more matches not shown" in got["search"] and "narrow" in got["search"]
    assert "send the output to a file and view it" in got["run_command"]
    assert got["run_command"].rstrip().endswith("the-end")  # the tail is kept
    assert got["diff"].startswith("41 files changed")
    assert "  big.py  +3000 -3000" in got["diff"] and "  gen_39.py  +20 -0" in got["diff"]
    assert "are cut or left out (big.py, gen_00.py" in got["diff"]
    assert "view those files to see their text" in got["diff"]


def test_many_long_references_stay_under_the_cut(bwrap, tmp_path, home):
    (tmp_path / "uses.py").write_text(
        "".join(f"def f{i}(): return target({'x' * 180!r})\n" for i in range(400))
        + "def target(s): ...\n"
    )

    async def go() -> str:
        async with swe_tools(tmp_path, home, bwrap) as tools:
            return await use(tools, "references", name="target")

    out = asyncio.run(go())
    assert len(out) < LOOP_CUT and out.startswith("401 lines using 'target' in 1 file")
    assert out.splitlines()[-1].endswith("give a narrower path]")


def test_many_failing_tests_stay_under_the_cut(bwrap, tmp_path, home):
    (tmp_path / "test_many.py").write_text(
        "".join(
            f"def test_{i}():\n    assert 'a' * 1200 == 'b' * 1200, 'long message {i}'\n\n\n"
            for i in range(60)
        )
    )

    async def go() -> str:
        async with swe_tools(tmp_path, home, bwrap) as tools:
            return await use(tools, "run_tests")

    out = asyncio.run(go())
    assert len(out) < LOOP_CUT
    assert out.splitlines()[0] == "0 passed, 60 failed"
    assert "FAILED test_many.py::test_0" in out and "test_many.py::test_59" in out
    assert "rerun some with run_tests([id, ...])" in out


def test_a_long_background_output_is_read_in_pieces_in_order(bwrap, tmp_path, home):
    command = "for i in $(seq 1 4000); do echo line-$i-xxxxxxxxxxxxxxxxxxxxxxxx; done"

    async def go() -> list[str]:
        async with swe_tools(tmp_path, home, bwrap) as tools:
            pieces = [await use(tools, "run_command", command=command, background=True)]
            while "not shown yet" in pieces[-1] or "is running" in pieces[-1]:
                pieces.append(await use(tools, "read_output", handle="bg1"))
            return pieces

    pieces = asyncio.run(go())
    assert len(pieces) > 3
    assert all(len(p) < LOOP_CUT for p in pieces)
    assert "read_output('bg1') continues from there" in pieces[1]
    numbers = [int(n) for p in pieces for n in re.findall(r"^line-(\d+)-", p, re.M)]
    assert numbers == list(range(1, 4001))


def test_many_debugger_hits_stay_under_the_cut(bwrap, tmp_path, home):
    (tmp_path / "loop.py").write_text("data = 'y' * 5000\nfor i in range(30):\n    n = i\n")

    async def go() -> str:
        async with swe_tools(tmp_path, home, bwrap) as tools:
            return await use(
                tools,
                "debug",
                command="python3 loop.py",
                breakpoints=["loop.py:3"],
                expressions=["data", "i", "data + data"],
            )

    out = asyncio.run(go())
    assert len(out) < LOOP_CUT and out.startswith("20 breakpoint hits")
    assert "more hits not shown" in out and "hit 1 at loop.py:3" in out
