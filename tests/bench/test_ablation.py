"""The ablation's six configurations (benchmarks/ablation_agents.py) give the model exactly the
features they are named for, and tell it of those only: a configuration that leaks a feature
would make the ablation measure nothing."""

import asyncio
import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opensage.bench.agents import AgentTask, load_agent
from opensage.config import load_config
from opensage.models.scripted import FunctionModel
from opensage.sandbox import open_sandbox

AGENTS = Path(__file__).resolve().parents[2] / "benchmarks" / "ablation_agents.py"
TEAM = {"create_agent", "run_agent", "wait_agents", "list_agents", "retire_agent", "ensemble"}
FEATURE_TOOLS = TEAM | {"create_tool", "search_tools", "list_tools"}
FEATURE_TOOLS |= {"remember", "recall", "ask_memory"}
# The feature tools each configuration must have, and no other.
EXPECTED = {
    "Plain": set(),
    "SubAgents": {"create_agent", "run_agent", "wait_agents", "list_agents", "retire_agent"},
    "Ensembles": {"create_agent", "list_agents", "ensemble"},
    "Synthesis": {"create_tool", "search_tools", "list_tools"},
    "Memory": {"remember", "recall", "ask_memory"},
    "Everything": FEATURE_TOOLS,
}
# Words of the instructions that name a feature's tools.
MENTIONS = {"run_agent": "run_agent", "ensemble": "ensemble(", "create_tool": "create_tool"}
MENTIONS |= {"remember": "remember("}


def solve(config: str, kind: str, reply, tmp_path: Path, model=None, files=None) -> None:
    """Run `config`'s agent on a task of `kind` in a work dir holding `files` (none by
    default), with `reply` as its model (or `model`)."""
    workdir = tmp_path / f"{config}-{kind}"
    workdir.mkdir()
    for name, text in (files or {}).items():
        (workdir / name).parent.mkdir(parents=True, exist_ok=True)
        (workdir / name).write_text(text)
    settings = load_config()
    task = AgentTask(
        "t",
        kind,
        "Do the task.",
        workdir,
        str(workdir),
        open_sandbox(None, hidden=(settings.home,)),
        60,
        model or FunctionModel(reply),  # type: ignore[arg-type]
        settings.home,
        kits=("swe",) if kind == "swe" else ("files", "shell"),
        shared=tmp_path / "shared",
    )
    outcome = asyncio.run(load_agent(f"{AGENTS}:{config}").solve(task))
    assert outcome.answer == "done"


def finish(messages, tools):
    return {"tool_calls": [{"name": "finish", "arguments": {"answer": "done"}}]}


@pytest.mark.parametrize("config", sorted(EXPECTED))
def test_each_configuration_gives_exactly_its_features(config, tmp_path):
    for kind in ("terminal", "swe"):
        seen: list = []

        def reply(messages, tools, seen=seen):
            seen.append(({t.name for t in tools}, messages[0].content))
            return finish(messages, tools)

        solve(config, kind, reply, tmp_path)
        tools, system = seen[0]
        assert tools & FEATURE_TOOLS == EXPECTED[config], kind
        assert {"run_command", "finish"} <= tools  # the task's own kits are kept
        for tool, words in MENTIONS.items():
            assert (words in system) == (tool in EXPECTED[config]), (kind, tool)


def test_a_sub_agent_cannot_be_given_the_tools_its_configuration_lacks(tmp_path):
    # create_agent's schema names the tools a sub-agent may get: not the dropped ensemble.
    schemas: list = []

    def reply(messages, tools):
        schemas.extend(t for t in tools if t.name == "create_agent")
        return finish(messages, tools)

    solve("SubAgents", "terminal", reply, tmp_path)
    names = schemas[0].parameters["properties"]["tools"]["items"]["enum"]
    assert "run_command" in names and "run_agent" in names and "ensemble" not in names


class ChoiceRecorder(FunctionModel):
    """Notes the tools offered and the tool forced ("auto": none) at each request."""

    def __init__(self, fn):
        super().__init__(fn)
        self.seen: list[tuple[set[str], str]] = []

    async def request(self, messages, tools, settings=None):
        self.seen.append(({t.name for t in tools}, settings.tool_choice if settings else "auto"))
        self.prompt = messages[1].content
        if messages[-1].content.startswith("Not finished"):
            self.refusal = messages[-1].content
        self.arguments = {t.name: t.parameters.get("properties", {}) for t in tools}
        return await super().request(messages, tools, settings)


def test_the_guided_procedure_opens_with_its_three_calls_on_whole_function_edits(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("ABLATION_PROCEDURE", "guided")
    script = iter(
        [
            ("run_tests", {}),
            ("symbols", {"name": "add"}),
            ("rewrite_function", {"code": "def add(a, b):\n    return a * b"}),
            ("finish", {"answer": "done too soon"}),
            ("rewrite_function", {"code": "def add(a, b):\n    return a + b"}),
            ("finish", {"answer": "done"}),
        ]
    )

    def reply(messages, tools):
        name, arguments = next(script)
        return {"tool_calls": [{"name": name, "arguments": arguments}]}

    model = ChoiceRecorder(reply)
    test = "from calc.ops import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
    files = {"calc/ops.py": "def add(a, b):\n    return a - b\n", "tests/test_ops.py": test}
    solve("Plain", "swe", reply, tmp_path, model, files)
    fixed = (tmp_path / "Plain-swe" / "calc" / "ops.py").read_text()
    assert fixed == "def add(a, b):\n    return a + b\n"  # found by the code alone
    assert [choice for _, choice in model.seen] == [
        "run_tests",
        "symbols",
        "rewrite_function",
        "required",
        "required",
        "required",
    ]
    # finish was refused while the test failed, and the model told why.
    assert model.refusal.startswith("Not finished: the tests still fail (0 passed, 1 failed).")
    offered = {"view", "search", "symbols", "run_tests", "rewrite_function", "finish"}
    assert model.seen[0][0] == offered
    # Required arguments only (the 0.5B made up test ids for run_tests' optional one), and
    # the repository's files in the prompt rather than the work dir's path, which it copied.
    # Required arguments only: the 0.5B made up test ids for run_tests' optional one.
    assert model.arguments["run_tests"] == {}
    # Files and functions are choices (it wrote error messages as paths); to look at, the
    # functions outside the tests; a rewrite is its code only.
    assert model.arguments["view"]["path"]["enum"] == ["calc/ops.py", "tests/test_ops.py"]
    assert model.arguments["symbols"]["name"]["enum"] == ["add"]
    assert set(model.arguments["rewrite_function"]) == {"code"}
    assert str(tmp_path) not in model.prompt
    assert "The repository's files (your tools take these paths)" in model.prompt

    # A terminal task is not an SWE one: the procedure leaves it as it is.
    terminal = ChoiceRecorder(finish)
    solve("Plain", "terminal", finish, tmp_path, terminal)
    assert [choice for _, choice in terminal.seen] == ["auto"]
    assert "run_command" in terminal.seen[0][0]


def test_until_is_the_next_such_time_even_past_midnight():
    spec = importlib.util.spec_from_file_location("ablation", AGENTS.with_name("ablation.py"))
    assert spec is not None and spec.loader is not None
    ablation = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ablation)
    seconds_left = ablation.seconds_left
    evening = datetime(2026, 11, 29, 23, 56, tzinfo=UTC)
    assert seconds_left("00:32", evening) == 36 * 60
    assert seconds_left("23:58", evening) == 2 * 60
    assert seconds_left(None, evening) is None
