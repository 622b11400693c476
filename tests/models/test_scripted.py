import asyncio
import json

import pytest

from opensage.models import ScriptedModel, model_from_spec, tool_call
from opensage.models.base import Message, ModelRateLimitError, ModelResponse
from opensage.models.scripted import FunctionModel, ScriptExhaustedError


def ask(model, text="hi"):
    return asyncio.run(model.request([Message("user", text)], []))


def test_replays_text_tool_calls_and_errors_in_order():
    model = ScriptedModel(
        [
            "hello",
            tool_call("add", a=1),
            {"tool_calls": [{"name": "f", "arguments": "{raw", "id": "x"}], "text": "hm"},
            {"raise": "rate_limit", "message": "slow down", "retry_after": 2},
        ]
    )
    assert ask(model).message.content == "hello"
    call = ask(model).message.tool_calls[0]
    assert (call.name, json.loads(call.arguments)) == ("add", {"a": 1})
    third = ask(model).message
    assert third.content == "hm" and third.tool_calls[0].arguments == "{raw"
    with pytest.raises(ModelRateLimitError, match="slow down") as info:
        ask(model)
    assert info.value.retry_after == 2


def test_reports_missing_and_unused_steps():
    model = ScriptedModel(["one", "two", "three"])
    ask(model)
    with pytest.raises(AssertionError, match="2 of 3 steps were never requested.*'two'"):
        model.assert_exhausted()
    ask(model)
    ask(model)
    model.assert_exhausted()
    with pytest.raises(ScriptExhaustedError, match="no step 4 \\(the script has 3\\).*'again'"):
        ask(model, "again")


def test_steps_can_be_computed_from_the_request():
    model = FunctionModel(lambda messages, tools: f"echo: {messages[-1].content}")
    assert ask(model, "a").message.content == "echo: a"
    assert ask(model, "b").message.content == "echo: b"
    scripted = ScriptedModel([lambda m, t: ModelResponse(Message("assistant", "made"))])
    assert ask(scripted).message.content == "made"


def test_loads_from_json_through_the_spec(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps(
            {
                "steps": [
                    "from file",
                    {"text": "t", "usage": {"input_tokens": 7, "output_tokens": 3}},
                ]
            }
        )
    )
    model = model_from_spec(f"scripted:{path}")
    assert model.name == f"scripted:{path}"
    assert ask(model).message.content == "from file"
    assert ask(model).usage.total_tokens == 10


def test_a_broken_script_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    with pytest.raises(Exception, match="cannot load scripted model from .*bad.json"):
        model_from_spec(f"scripted:{path}")
