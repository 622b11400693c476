"""Tool calls written in a reply's text: the forms small models use, their real replies
(recorded by record_local_replies.py), and a malformed call answered as a format error that the
model then corrects, through the agent loop and a real HTTP server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opensage import Agent, tool
from opensage.core.events import EventLog
from opensage.models.base import Message, ToolCall, ToolSchema
from opensage.models.local import LocalModel
from opensage.models.openai_compat import OpenAIModel
from opensage.models.text_calls import (
    TextToolCalls,
    as_text_history,
    call_text,
    find_calls,
    split_reply,
)

from .fake_server import FakeServer
from .test_openai_adapter import completion

RECORDED = json.loads((Path(__file__).parent / "data" / "local_replies.json").read_text())


def schema(name, *params):
    return ToolSchema(
        name,
        f"The {name} tool.",
        {
            "type": "object",
            "properties": {p: {"type": "string"} for p in params},
            "required": list(params),
        },
    )


TOOLS = [
    schema("view", "path"),
    schema("run_tests"),
    schema("finish", "answer"),
    schema("str_replace", "path", "old_str", "new_str"),
]


def calls(text, tools=TOOLS, **kw):
    content, found = split_reply(text, tools, **kw)
    return content, [
        (c.name, json.loads(c.arguments) if c.arguments.startswith("{") else c.arguments)
        for c in found
    ]


VIEW = ("view", {"path": "a.py"})


@pytest.mark.parametrize(
    "text",
    [
        '{"name": "view", "arguments": {"path": "a.py"}}',
        '<tool_call>\n{"name": "view", "arguments": {"path": "a.py"}}\n</tool_call>',
        '```json\n{\n  "name": "view",\n  "arguments": {\n    "path": "a.py"\n  }\n}\n```',
        '{{"name": "view", "arguments": {"path": "a.py"}}}',  # the 1.5B's template's example
        '{{"name": "view", "arguments": {{"path": "a.py"}}}}',
        '{"name": "view", "arguments": "{\\"path\\": \\"a.py\\"}"}',  # arguments as a string
        '{"name": "view", "parameters": {"path": "a.py"}}',
        '{"type": "function", "function": {"name": "view", "arguments": {"path": "a.py"}}}',
        '{"name": "view", "path": "a.py"}',  # flat
        '{"view": {"path": "a.py"}}',
        '<tool_call>\n{"name": "view", "arguments": {"path": "a.py"}\n</tool_call>',  # one } short
        '<tool_call>\n{"name": "view", "arguments": {"path": "a.py"',  # cut off by max tokens
        '{"name": "view.py", "arguments": {"path": "a.py"}}',  # a near-miss of the name
        '{"name": "View", "arguments": {"path": "a.py", "type": "object", "required": ["path"]}}',
    ],
)
def test_each_form_small_models_write_is_a_call(text):
    assert calls(text) == ("", [VIEW])


def test_text_before_the_call_is_kept_and_the_wrappers_dropped():
    assert calls(
        'Let me look at the file.\n```json\n{"name": "view", "arguments": {"path": "a.py"}}\n```'
    ) == ("Let me look at the file.", [VIEW])


@pytest.mark.parametrize(
    "text",
    [
        "Paris",
        "The answer is 42.",
        'The config is {"debug": true, "level": 3}.',
        '{"name": "Alice", "age": 30}',  # a JSON answer, not a call
        "Use `{}` to format: '{0}'.format(x)",
        "```python\ndef f():\n    return {'a': 1}\n```",
    ],
)
def test_text_that_is_not_a_call_stays_the_answer(text):
    assert calls(text) == (text, [])


def test_only_the_first_of_several_calls_is_kept_without_the_imagined_results():
    text = (
        '{"name": "view", "arguments": {"path": "a.py"}}\n'
        "<tool_response>\ndef add(a, b): return a - b\n</tool_response>\n"
        '{"name": "str_replace", "arguments": {"path": "a.py", "old_str": "-", '
        '"new_str": "+"}}\n{"name": "finish", "arguments": {"answer": "fixed"}}'
    )
    assert calls(text) == ("", [VIEW])
    assert [c.name for c in find_calls(text, ["view"])] == ["view", "str_replace", "finish"]
    assert len(calls(text, max_calls=None)[1]) == 3


def test_a_restated_call_is_passed_over_for_the_one_after_it():
    previous = (ToolCall("c1", "view", '{"path": "a.py"}'),)
    text = (
        '{"name": "view", "arguments": {"path": "a.py"}}\n'
        '{"name": "finish", "arguments": {"answer": "done"}}'
    )
    assert calls(text, previous=previous) == ("", [("finish", {"answer": "done"})])
    # Alone, the restated call is the call: the loop runs it again.
    assert calls('{"name": "view", "arguments": {"path": "a.py"}}', previous=previous) == (
        "",
        [VIEW],
    )


@pytest.mark.parametrize(
    ("text", "name", "arguments"),
    [
        ('{"name": "delete_all", "arguments": {}}', "delete_all", "{}"),  # not offered
        ('{"name": "view", "arguments": ["a.py"]}', "view", '["a.py"]'),  # not an object
        ('{"name": "view", "arguments": "a.py"}', "view", "a.py"),
        (
            '<tool_call>\n{"name": "view", "arguments": {path: a.py}}\n</tool_call>',
            "view",
            "{path: a.py}",
        ),  # not JSON: the text, for the loop
        ("<tool_call>\nview(path='a.py')\n</tool_call>", "", "view(path='a.py')"),
        # A reply of the 0.5B's in the fix task (benchmarks/local_tool_use.py): single quotes.
        (
            '{\n    "name": "fix_calc.py",\n    "arguments": {\n        "command": \'python3 '
            'test_calc.py 10\',\n        "timeout_s": 900\n    }\n}',
            "fix_calc.py",
            '{\n        "command": \'python3 test_calc.py 10\',\n        "timeout_s": 900\n    }',
        ),
    ],
)
def test_a_malformed_call_stays_a_call_for_the_loop_to_answer(text, name, arguments):
    content, found = split_reply(text, TOOLS)
    assert content == "" and [(c.name, c.arguments) for c in found] == [(name, arguments)]


def test_the_history_goes_back_in_the_models_own_format():
    history = [
        Message("system", "S"),
        Message("user", "U"),
        Message(
            "assistant",
            "Looking.",
            tool_calls=(ToolCall("c1", "view", '{"path":"a.py"}'), ToolCall("c2", "run_tests", "")),
        ),
        Message("tool", "1 line", tool_call_id="c1", name="view"),
        Message("tool", "0 passed, 1 failed", tool_call_id="c2", name="run_tests", is_error=True),
        Message("assistant", "", tool_calls=(ToolCall("c3", "view", '{"path": '),)),
        Message("tool", "Arguments for view are not valid JSON", tool_call_id="c3"),
    ]
    sent = as_text_history(history)
    assert [m.role for m in sent] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert all(not m.tool_calls and m.tool_call_id is None for m in sent)
    assert sent[2].content == (
        'Looking.\n<tool_call>\n{"name": "view", "arguments": {"path": "a.py"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "run_tests", "arguments": {}}\n</tool_call>'
    )
    assert sent[3].content == (
        "<tool_response>\n1 line\n</tool_response>\n"
        "<tool_response>\n0 passed, 1 failed\n</tool_response>"
    )
    # A malformed call is shown as the model wrote it, next to the error it got.
    assert sent[4].content == call_text(history[5].tool_calls[0])
    assert '"arguments": {"path": }' in sent[4].content


def recorded(model):
    return [r for r in RECORDED["replies"] if r["model"] == model and "expect" in r]


def check_recorded(row):
    tools = [
        ToolSchema(t["name"], t["description"], t["parameters"])
        for t in RECORDED["tools"][row["scenario"]]
    ]
    previous = tuple(ToolCall(f"p{i}", n, a) for i, (n, a) in enumerate(row["previous"]))
    _, found = split_reply(row["text"], tools, previous=previous)
    got = [[c.name, _loaded(c.arguments)] for c in found]
    assert got == row["expect"], row["text"]


def _loaded(arguments):
    try:
        return json.loads(arguments)
    except ValueError:
        return arguments


@pytest.mark.parametrize("model", ["qwen-0.5b", "qwen-1.5b"])
def test_recorded_replies_of_the_bundled_models(model):
    """Every labelled reply the model really wrote, in the recorded agent tasks (see
    record_local_replies.py): `expect` is the call a reader takes it to make (the first one, or
    the one after a restated call), [] for an answer."""
    rows = recorded(model)
    assert len(rows) >= 15
    for row in rows:
        check_recorded(row)


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@pytest.fixture
def server():
    fake = FakeServer()
    fake.url = fake.start() + "/v1"
    yield fake
    fake.stop()


def test_a_malformed_call_is_answered_as_a_format_error_the_model_corrects(server, home):
    """Through the agent loop and a real HTTP server: the model's first call is not JSON, the
    loop says so in the model's own format, the model writes it again correctly, gets the
    result and answers."""
    server.reply(
        completion('<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": }}\n</tool_call>')
    )
    server.reply(
        completion('<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n</tool_call>')
    )
    server.reply(completion("2 plus 3 is 5."))
    model = TextToolCalls(OpenAIModel("qwen", base_url=server.url, price=(0, 0)))
    result = Agent("adder", "Use the tools.", model=model, tools=[add], max_steps=5).run_sync(
        "What is 2 plus 3?"
    )
    assert result.stop_reason == "finished" and result.answer == "2 plus 3 is 5."
    log = EventLog(home / "events.db")
    outcomes = [
        (e.data["name"], e.data["ok"], e.data["error"])
        for e in log.events(result.run_id, ("tool_result",))
    ]
    assert outcomes == [("add", False, "bad_json"), ("add", True, None)]
    second = server.requests[1].body["messages"]
    assert all(m["role"] in ("system", "user", "assistant") for m in second)
    assert second[-2] == {
        "role": "assistant",
        "content": ('<tool_call>\n{"name": "add", "arguments": {"a": 2, "b": }}\n</tool_call>'),
    }
    assert second[-1]["role"] == "user" and second[-1]["content"].startswith(
        "<tool_response>\nArguments for add are not valid JSON"
    )
    third = server.requests[2].body["messages"]
    assert third[-1]["content"] == "<tool_response>\n5\n</tool_response>"
    assert server.requests[0].body["tools"][0]["function"]["name"] == "add"


def test_an_unknown_tool_is_answered_with_the_tools_there_are(server, home):
    server.reply(completion('{"name": "calculator", "arguments": {"expr": "2+3"}}'))
    server.reply(completion('{"name": "add", "arguments": {"a": 2, "b": 3}}'))
    server.reply(completion("5"))
    model = TextToolCalls(OpenAIModel("qwen", base_url=server.url, price=(0, 0)))
    result = Agent("adder", "Use the tools.", model=model, tools=[add], max_steps=5).run_sync(
        "What is 2 plus 3?"
    )
    assert result.answer == "5"
    error = server.requests[1].body["messages"][-1]["content"]
    assert "Unknown tool 'calculator'. Available tools: add, finish." in error


def test_the_local_adapter_finds_calls_in_text_and_queues_requests(
    server, home, tmp_path, monkeypatch
):
    """LocalModel on a stand-in server: calls found in the text, the history sent back as
    text, a default output limit, and requests of one event loop taking turns."""
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setattr("opensage.models.local.LocalServer._shared", {})
    model = LocalModel(str(gguf))
    model.server.port = int(server.url.split(":")[2].split("/")[0])

    async def started(timeout_s=120.0):
        return None

    monkeypatch.setattr(model.server, "ensure_started", started)
    server.reply(completion('```json\n{"name": "add", "arguments": {"a": 2, "b": 3}}\n```'))
    server.reply(completion("5"))
    result = Agent("adder", "Use the tools.", model=model, tools=[add], max_steps=3).run_sync(
        "What is 2 plus 3?"
    )
    assert result.answer == "5"
    first, second = (r.body for r in server.requests)
    assert first["max_tokens"] == 2048 and "stop" not in first
    assert second["messages"][-2]["content"].startswith('<tool_call>\n{"name": "add"')


def test_a_profile_turns_text_tool_calls_on_for_an_openai_compatible_endpoint(server, home):
    """`text_tool_calls = true` in a [models.NAME] profile: an endpoint that returns calls as
    text (a server without a tool parser for the model) gets them found there."""
    from opensage.config import load_config
    from opensage.runtime import resolve_model

    home.mkdir(parents=True, exist_ok=True)
    (home / "opensage.toml").write_text(
        f'[models.qwen]\nspec = "openai:qwen2.5-coder"\nbase_url = "{server.url}"\n'
        'text_tool_calls = true\n\n[models.plain]\nspec = "openai:qwen2.5-coder"\n'
        f'base_url = "{server.url}"\n'
    )
    config = load_config()
    assert isinstance(resolve_model("qwen", config), TextToolCalls)
    assert isinstance(resolve_model("plain", config), OpenAIModel)
    server.reply(completion('{"name": "add", "arguments": {"a": 2, "b": 3}}'))
    server.reply(completion("5"))
    result = Agent("adder", "Use the tools.", model="qwen", tools=[add], max_steps=3).run_sync(
        "What is 2 plus 3?"
    )
    assert result.answer == "5"
    assert server.requests[1].body["messages"][-1]["content"] == (
        "<tool_response>\n5\n</tool_response>"
    )


def test_a_restated_call_is_asked_again_with_its_result_shown_plainly(server, home):
    """The loop breaker: the model writes the call whose result it was just given; it is asked
    once more, the result shown plainly and the call named as done; the history it is then
    sent keeps the usual format, and both requests are counted."""
    server.reply(completion('{"name": "add", "arguments": {"a": 2, "b": 3}}', prompt=10))
    server.reply(completion('{"name": "add", "arguments": {"a": 2, "b": 3}}', prompt=20))
    server.reply(completion('{"name": "finish", "arguments": {"answer": "5"}}', prompt=30))
    model = TextToolCalls(OpenAIModel("qwen", base_url=server.url, price=(0, 0)))
    result = Agent("adder", "Use the tools.", model=model, tools=[add], max_steps=3).run_sync(
        "What is 2 plus 3?"
    )
    assert result.answer == "5" and result.steps == 2
    assert result.usage.requests == 3 and result.usage.input_tokens == 60
    retry = server.requests[2].body["messages"]
    assert retry[-2]["content"].startswith("<tool_call>")
    assert retry[-1] == {
        "role": "user",
        "content": (
            "You called add and it returned:\n5\nDo not call add again. Use this result to answer "
            "the task: call finish(answer), or call a different tool."
        ),
    }
    assert "<tool_response>" in server.requests[1].body["messages"][-1]["content"]
