"""The grammar that holds a local model's sampling to well-formed calls of the offered tools:
which requests get one, what it is built from, and that the local adapter sends it. That
llama.cpp itself admits exactly the valid calls is tests/integration/test_local_grammar.py."""

from __future__ import annotations

import re

import pytest

from opensage import Agent, ModelSettings, tool
from opensage.models.base import ToolSchema
from opensage.models.grammar import grammar_for, tool_call_grammar
from opensage.models.local import LocalModel

from .fake_server import FakeServer
from .test_openai_adapter import completion

VIEW = ToolSchema(
    "view",
    "Show a file.",
    {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "view_range": {
                "anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}]
            },
        },
        "required": ["path"],
    },
)
FINISH = ToolSchema(
    "finish",
    "End the run.",
    {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]},
)


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def rule(grammar: str, name: str) -> str:
    (line,) = [line for line in grammar.splitlines() if line.startswith(f"{name} ::= ")]
    return line.removeprefix(f"{name} ::= ")


def test_which_requests_are_constrained():
    assert grammar_for([], "required") is None
    assert grammar_for([VIEW, FINISH], "none") is None
    # One tool named: a call of that tool only, by our grammar (the server's own lets raw
    # control characters into strings).
    named = grammar_for([VIEW, FINISH], "view") or ""
    assert '\\"view\\"' in rule(named, "object-call") and "finish" not in named
    assert grammar_for([VIEW, FINISH], "other") is None
    assert rule(grammar_for([VIEW, FINISH], "required") or "", "root") == "call"
    # An agent answers through finish: with it offered, only a call is admitted...
    assert rule(grammar_for([VIEW, FINISH], "auto") or "", "root") == "call"
    # ...without it, plain text is an answer too.
    assert rule(grammar_for([VIEW], "auto") or "", "root") == "call | answer"
    assert grammar_for([VIEW, FINISH], "auto", auto=False) is None
    assert grammar_for([VIEW, FINISH], "required", auto=False) is not None


def test_the_grammar_names_each_offered_tool_with_its_own_arguments():
    grammar = tool_call_grammar([VIEW, FINISH])
    # In the template's tags, or bare (as the models write calls on their own).
    assert rule(grammar, "call") == '"<tool_call>\\n" object-call "\\n</tool_call>" | object-call'
    call = rule(grammar, "object-call")
    assert call.startswith('"{\\"name\\": " (') and call.endswith(') "}"')
    named = re.findall(r'"\\"(\w+)\\", \\"arguments\\": " (args-\d+)', call)
    assert named == [("view", "args-0"), ("finish", "args-1")]
    # view: path required, then view_range optional (a list of integers or null), in order.
    assert rule(grammar, "args-0") == '"{" args-0-0 ( ", " args-0-1 )? "}"'
    assert rule(grammar, "args-0-0") == '"\\"path\\": " string'
    assert rule(grammar, "args-0-1") == '"\\"view_range\\": " ( args-0-1-0 | args-0-1-1 )'
    assert rule(grammar, "args-0-1-0-item") == "integer"
    assert rule(grammar, "args-1") == '"{" args-1-0 "}"'


def test_optional_members_before_a_required_one_and_an_all_optional_object():
    schema = {
        "type": "object",
        "properties": {
            "x": {"type": "boolean"},
            "mode": {"enum": ["fast", "slow"]},
            "n": {"type": "integer"},
        },
        "required": ["n"],
    }
    grammar = tool_call_grammar([ToolSchema("t", "", schema)])
    assert rule(grammar, "args-0") == (
        '"{" ( args-0-0 ( ", " args-0-1 )? ", " args-0-2 | ( args-0-1 ", " args-0-2 | args-0-2 ) )'
        ' "}"'
    )
    assert rule(grammar, "args-0-1") == '"\\"mode\\": " ( "\\"fast\\"" | "\\"slow\\"" )'
    schema["required"] = []
    grammar = tool_call_grammar([ToolSchema("t", "", schema)])
    assert rule(grammar, "args-0").startswith(
        '"{" ( ( args-0-0 ( ", " args-0-1 )? ( ", " args-0-2 )?'
    )
    assert rule(grammar, "args-0").endswith(')? "}"')  # "{}" too


def test_the_grammar_is_built_once_per_toolset():
    first = tool_call_grammar([VIEW, FINISH])
    assert tool_call_grammar([VIEW, FINISH]) is first
    assert tool_call_grammar([FINISH, VIEW]) != first  # the order the model is shown


@pytest.fixture
def server():
    fake = FakeServer()
    fake.url = fake.start() + "/v1"
    yield fake
    fake.stop()


def local_model_on(server: FakeServer, tmp_path, monkeypatch, **options) -> LocalModel:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setattr("opensage.models.local.LocalServer._shared", {})
    model = LocalModel(str(gguf), **options)
    model.server.port = int(server.url.split(":")[2].split("/")[0])

    async def started(timeout_s=120.0):
        return None

    monkeypatch.setattr(model.server, "ensure_started", started)
    return model


def test_the_local_adapter_sends_the_toolsets_grammar(server, home, tmp_path, monkeypatch):
    model = local_model_on(server, tmp_path, monkeypatch, seed=7, constrain=True)
    server.reply(
        completion('<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call>')
    )
    server.reply(
        completion('<tool_call>\n{"name": "finish", "arguments": {"answer": "5"}}\n</tool_call>')
    )
    result = Agent("adder", "Use the tools.", model=model, tools=[add], max_steps=3).run_sync(
        "What is 2 plus 3?"
    )
    assert result.answer == "5"
    first, second = (r.body for r in server.requests)
    offered = [t["function"]["name"] for t in first["tools"]]
    assert offered == ["add", "finish"]
    grammar = first["grammar"]
    assert re.findall(r'\\"(\w+)\\", \\"arguments', rule(grammar, "object-call")) == offered
    assert rule(grammar, "root") == "call"
    assert second["grammar"] == grammar and (first["seed"], second["seed"]) == (7, 8)


def test_by_default_only_a_required_call_is_constrained(server, home, tmp_path, monkeypatch):
    """The server takes tool choice "required" for "auto": the grammar makes it hold. An
    optional call is left to the model unless `constrain=True` (measured: no better)."""
    model = local_model_on(server, tmp_path, monkeypatch)
    for _ in range(2):
        server.reply(completion('{"name": "finish", "arguments": {"answer": "5"}}'))
    Agent("adder", "Use the tools.", model=model, tools=[add], max_steps=1).run_sync("2 + 3?")
    assert "grammar" not in server.requests[0].body
    required = ModelSettings(tool_choice="required")
    Agent("adder", "", model=model, tools=[add], max_steps=1, settings=required).run_sync("2+3?")
    assert rule(server.requests[1].body["grammar"], "root") == "call"


def test_the_grammar_can_be_turned_off(server, home, tmp_path, monkeypatch):
    model = local_model_on(server, tmp_path, monkeypatch, constrain=False)
    server.reply(completion('{"name": "finish", "arguments": {"answer": "5"}}'))
    required = ModelSettings(tool_choice="required")
    Agent("adder", "", model=model, tools=[add], max_steps=1, settings=required).run_sync("2+3?")
    assert "grammar" not in server.requests[0].body
