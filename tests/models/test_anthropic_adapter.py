import asyncio

import pytest

from opensage import Agent, tool
from opensage.models import model_from_spec
from opensage.models.anthropic import AnthropicModel
from opensage.models.base import (
    Message,
    ModelAuthError,
    ModelError,
    ModelNotFoundError,
    ModelSettings,
    ToolCall,
    ToolSchema,
)
from opensage.models.retry import RetryPolicy

from .fake_server import FakeServer

WEATHER = ToolSchema(
    "weather", "Weather in a city.", {"type": "object", "properties": {"city": {"type": "string"}}}
)


def reply(*blocks, input_tokens=10, output_tokens=4, model="claude-sonnet-4-6"):
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": list(blocks),
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def error(kind, message):
    return {"type": "error", "error": {"type": kind, "message": message}}


@pytest.fixture
def server():
    fake = FakeServer()
    fake.url = fake.start()
    yield fake
    fake.stop()


def model(server, name="claude-sonnet-4-6"):
    return model_from_spec(
        f"anthropic:{name}",
        base_url=server.url,
        api_key="sk-ant-test",
        retry=RetryPolicy(attempts=3, base_delay_s=0.01),
    )


def test_text_reply_usage_and_cost(server):
    server.reply(
        reply({"type": "text", "text": "Oslo."}, input_tokens=1_000_000, output_tokens=1_000_000)
    )
    r = asyncio.run(
        model(server).request(
            [Message("system", "Be brief."), Message("user", "Capital of Norway?")], []
        )
    )
    assert r.message.content == "Oslo."
    assert r.usage.cost_usd == pytest.approx(3.0 + 15.0)
    sent = server.requests[0]
    assert sent.path == "/v1/messages" and "sk-ant-test" in sent.headers["authorization"]
    assert sent.body["system"] == "Be brief."
    assert sent.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Capital of Norway?"}]}
    ]
    assert sent.body["max_tokens"] == 4096


def test_tool_use_and_results_on_the_wire(server):
    server.reply(
        reply(
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "tu_2", "name": "weather", "input": {"city": "Oslo"}},
        )
    )
    history = [
        Message("user", "Weather?"),
        Message(
            "assistant",
            "",
            tool_calls=(
                ToolCall("tu_1", "weather", '{"city": "Rome"}'),
                ToolCall("tu_x", "weather", "{broken"),
            ),
        ),
        Message("tool", "sunny", tool_call_id="tu_1", name="weather"),
        Message("tool", "bad JSON", tool_call_id="tu_x", name="weather", is_error=True),
    ]
    r = asyncio.run(
        model(server).request(history, [WEATHER], ModelSettings(tool_choice="required"))
    )
    assert r.message.content == "Checking."
    assert r.message.tool_calls == (ToolCall("tu_2", "weather", '{"city": "Oslo"}'),)
    body = server.requests[0].body
    assert body["tools"] == [
        {"name": "weather", "description": "Weather in a city.", "input_schema": WEATHER.parameters}
    ]
    assert body["tool_choice"] == {"type": "any"}
    assistant, results = body["messages"][1], body["messages"][2]
    assert assistant["content"] == [
        {"type": "tool_use", "id": "tu_1", "name": "weather", "input": {"city": "Rome"}},
        {
            "type": "tool_use",
            "id": "tu_x",
            "name": "weather",
            "input": {"raw_arguments": "{broken"},
        },
    ]
    # Both results fold into one user turn, the error marked as one.
    assert results == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "tu_1", "content": "sunny"},
            {"type": "tool_result", "tool_use_id": "tu_x", "content": "bad JSON", "is_error": True},
        ],
    }


@pytest.mark.parametrize(
    ("status", "kind"), [(429, "rate_limit_error"), (500, "api_error"), (529, "overloaded_error")]
)
def test_retries_rate_limits_and_server_errors(server, status, kind):
    server.reply(error(kind, "busy"), status=status, headers={"retry-after": "0"})
    server.reply(reply({"type": "text", "text": "ok"}))
    r = asyncio.run(model(server).request([Message("user", "hi")], []))
    assert r.message.content == "ok" and len(server.requests) == 2


def test_wrong_key_and_unknown_model(server):
    server.reply(error("authentication_error", "invalid x-api-key"), status=401)
    with pytest.raises(ModelAuthError, match="invalid x-api-key"):
        asyncio.run(model(server).request([Message("user", "hi")], []))
    server.reply(error("not_found_error", "model: claude-9"), status=404)
    with pytest.raises(ModelNotFoundError, match="claude-9"):
        asyncio.run(model(server, "claude-9").request([Message("user", "hi")], []))
    assert len(server.requests) == 2


def test_an_agent_runs_over_the_wire(server):
    @tool
    def weather(city: str) -> str:
        """Weather in a city."""
        return f"snow in {city}"

    server.reply(
        reply({"type": "tool_use", "id": "tu_1", "name": "weather", "input": {"city": "Tromsø"}})
    )
    server.reply(
        reply({"type": "tool_use", "id": "tu_2", "name": "finish", "input": {"answer": "Snow."}})
    )
    result = Agent("w", "Answer.", model=model(server), tools=[weather]).run_sync("Weather?")
    assert (result.answer, result.usage.requests) == ("Snow.", 2)
    assert server.requests[1].body["messages"][-1]["content"] == [
        {"type": "tool_result", "tool_use_id": "tu_1", "content": "snow in Tromsø"}
    ]


def test_malformed_tool_use_blocks_are_made_safe(server):
    server.reply(
        reply(
            {"type": "tool_use", "name": None, "input": None},
            {"type": "tool_use", "id": "tu_1", "name": "weather", "input": {"c": 1}},
            {"type": "tool_use", "id": "tu_1", "name": ["weather"], "input": "{}"},
            "not a block",
        )
    )
    r = asyncio.run(model(server).request([Message("user", "hi")], []))
    assert r.message.tool_calls == (
        ToolCall("call_0", "", ""),
        ToolCall("tu_1", "weather", '{"c": 1}'),
        ToolCall("tu_1_2", '["weather"]', "{}"),
    )


@pytest.mark.parametrize(
    "usage",
    [
        {"input_tokens": -500, "output_tokens": 4},
        {"input_tokens": 5, "output_tokens": 4, "cache_read_input_tokens": -(10**6)},
    ],
)
def test_negative_token_usage_is_refused(server, usage):
    server.reply({**reply({"type": "text", "text": "hi"}), "usage": usage})
    field, value = next((k, v) for k, v in usage.items() if v < 0)
    with pytest.raises(
        ModelError,
        match=rf"{server.url} reported {field} = {value}, which is "
        r"not a token count.*the server is broken",
    ):
        asyncio.run(model(server).request([Message("user", "hi")], []))
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("body", "content_type", "shown"),
    [
        ("<html>Service Unavailable</html>", "text/html", "<html>Service Unavailable"),
        ('"a string"', "application/json", '"a string"'),
        ('{"type": "message", "role": "assistant"}', "application/json", '{"type": "message"'),
    ],
)
def test_a_reply_that_is_not_a_messages_reply_says_so(server, body, content_type, shown):
    server.reply_raw(body, content_type)
    with pytest.raises(ModelError) as info:
        asyncio.run(model(server).request([Message("user", "hi")], []))
    assert str(info.value).startswith(
        f"the endpoint at {server.url} answered with something that is not a Messages API reply: "
    )
    assert shown in str(info.value)


def test_settings_extra_fields_and_cached_input_tokens_on_the_wire(server):
    server.reply(
        {
            **reply({"type": "text", "text": "ok"}, model="claude-sonnet-4-6-20260101"),
            "usage": {
                "input_tokens": 100,
                "cache_read_input_tokens": 1000,
                "cache_creation_input_tokens": 10,
                "output_tokens": 7,
            },
        }
    )
    m = AnthropicModel(
        "claude-sonnet-4-6",
        base_url=server.url,
        api_key="k",
        price=(1.0, 2.0),
        extra_body={"metadata": {"user_id": "u1"}},
    )
    r = asyncio.run(
        m.request(
            [Message("user", "hi")], [], ModelSettings(temperature=0.2, max_output_tokens=300)
        )
    )
    body = server.requests[0].body
    # No temperature: deprecated by the API, gone from the SDK (passing it was a TypeError).
    assert body["max_tokens"] == 300 and "temperature" not in body and "system" not in body
    assert body["metadata"] == {"user_id": "u1"}
    # Cached input is input: counted and priced as such.
    assert (r.usage.input_tokens, r.usage.output_tokens) == (1110, 7)
    assert r.usage.cost_usd == pytest.approx((1110 * 1.0 + 7 * 2.0) / 1e6)
    assert (r.model, r.finish_reason) == ("claude-sonnet-4-6-20260101", "end_turn")
    assert m.name == "anthropic:claude-sonnet-4-6"
    asyncio.run(m.aclose())
    asyncio.run(m.aclose())
