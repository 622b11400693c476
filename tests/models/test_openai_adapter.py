import asyncio
import json
import socket
import time

import pytest

from opensage import Agent, tool
from opensage.core.events import EventLog
from opensage.models import model_from_spec
from opensage.models.base import (
    Message,
    ModelAuthError,
    ModelError,
    ModelNotFoundError,
    ModelSettings,
    ModelUnreachableError,
    ToolCall,
    ToolSchema,
)
from opensage.models.openai_compat import OpenAIModel
from opensage.models.retry import RetryPolicy

from .fake_server import FakeServer

FAST_RETRY = RetryPolicy(attempts=3, base_delay_s=0.01)
WEATHER = ToolSchema(
    "weather", "Weather in a city.", {"type": "object", "properties": {"city": {"type": "string"}}}
)


def completion(content=None, tool_calls=None, prompt=12, completion_tokens=5, model="gpt-4o-mini"):
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls" if tool_calls else "stop",
                "message": {"role": "assistant", "content": content, "tool_calls": tool_calls},
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt + completion_tokens,
        },
    }


def error(status, message):
    return {"error": {"message": message, "type": "x", "code": None}}


@pytest.fixture
def server():
    fake = FakeServer()
    fake.url = fake.start() + "/v1"
    yield fake
    fake.stop()


def model(server, name="gpt-4o-mini"):
    return model_from_spec(
        f"openai:{name}", base_url=server.url, api_key="sk-test", retry=FAST_RETRY
    )


def test_text_reply_with_usage_and_cost(server):
    server.reply(completion("Paris.", prompt=1_000_000, completion_tokens=1_000_000))
    m = model(server)
    r = asyncio.run(m.request([Message("system", "Be brief."), Message("user", "Capital?")], []))
    assert r.message.content == "Paris." and not r.message.tool_calls
    assert (r.usage.input_tokens, r.usage.output_tokens) == (1_000_000, 1_000_000)
    assert r.usage.cost_usd == pytest.approx(0.15 + 0.60)  # gpt-4o-mini's price
    sent = server.requests[0]
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital?"},
    ]
    assert "tools" not in sent.body


def test_tool_calls_and_history_on_the_wire(server):
    call = {
        "id": "call_9",
        "type": "function",
        "function": {"name": "weather", "arguments": '{"city": "Oslo"}'},
    }
    server.reply(completion(tool_calls=[call]))
    history = [
        Message("user", "Weather?"),
        Message("assistant", "", tool_calls=(ToolCall("call_1", "weather", '{"city":"Rome"}'),)),
        Message("tool", "sunny", tool_call_id="call_1", name="weather"),
    ]
    r = asyncio.run(
        model(server).request(
            history, [WEATHER], ModelSettings(tool_choice="weather", temperature=0)
        )
    )
    assert r.message.tool_calls == (ToolCall("call_9", "weather", '{"city": "Oslo"}'),)
    body = server.requests[0].body
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "description": "Weather in a city.",
                "parameters": WEATHER.parameters,
            },
        }
    ]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "weather"}}
    assert body["temperature"] == 0
    assert body["messages"][1]["tool_calls"][0]["function"] == {
        "name": "weather",
        "arguments": '{"city":"Rome"}',
    }
    assert body["messages"][1]["content"] == ""  # not null: llama.cpp's server rejects null
    assert body["messages"][2] == {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}


@pytest.mark.parametrize("status", [429, 500, 503])
def test_retries_rate_limits_and_server_errors(server, status):
    server.reply(error(status, "busy"), status=status)
    server.reply(error(status, "busy"), status=status)
    server.reply(completion("ok"))
    r = asyncio.run(model(server).request([Message("user", "hi")], []))
    assert r.message.content == "ok" and len(server.requests) == 3


def test_retry_after_is_honoured(server):
    server.reply(error(429, "slow down"), status=429, headers={"retry-after": "0.6"})
    server.reply(completion("ok"))
    started = time.perf_counter()
    asyncio.run(model(server).request([Message("user", "hi")], []))
    assert time.perf_counter() - started >= 0.6


def test_gives_up_after_the_last_attempt(server):
    for _ in range(3):
        server.reply(error(500, "down"), status=500)
    with pytest.raises(Exception, match="failed with 500"):
        asyncio.run(model(server).request([Message("user", "hi")], []))
    assert len(server.requests) == 3


def test_wrong_key_is_a_clear_error_without_retries(server):
    server.reply(error(401, "Incorrect API key provided"), status=401)
    with pytest.raises(ModelAuthError, match="refused the API key.*Incorrect API key"):
        asyncio.run(model(server).request([Message("user", "hi")], []))
    assert len(server.requests) == 1


def test_unknown_model_is_a_clear_error(server):
    server.reply(error(404, "The model `gpt-9` does not exist"), status=404)
    with pytest.raises(ModelNotFoundError, match="'gpt-9'.*Check the model name"):
        asyncio.run(model(server, "gpt-9").request([Message("user", "hi")], []))


def test_unreachable_endpoint_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    m = OpenAIModel("m", base_url=f"http://127.0.0.1:{port}/v1", retry=FAST_RETRY)
    with pytest.raises(ModelUnreachableError, match="cannot reach"):
        asyncio.run(m.request([Message("user", "hi")], []))


def test_unknown_price_counts_tokens_only(server):
    server.reply(completion("hi", model="my-finetune"))
    r = asyncio.run(model(server, "my-finetune").request([Message("user", "hi")], []))
    assert r.usage.unpriced == 1 and r.usage.cost_usd == 0 and r.usage.total_tokens == 17


def test_an_agent_runs_over_the_wire(server):
    @tool
    def weather(city: str) -> str:
        """Weather in a city."""
        return f"rain in {city}"

    call = {
        "id": "c1",
        "type": "function",
        "function": {"name": "weather", "arguments": '{"city": "Bergen"}'},
    }
    server.reply(completion(tool_calls=[call]))
    server.reply(error(429, "slow"), status=429, headers={"retry-after": "0"})
    server.reply(completion("It rains in Bergen."))
    agent = Agent("w", model=model(server), tools=[weather])
    result = agent.run_sync("Weather in Bergen?")
    assert result.answer == "It rains in Bergen." and result.usage.requests == 2
    last = server.requests[-1].body["messages"][-1]
    assert last == {"role": "tool", "tool_call_id": "c1", "content": "rain in Bergen"}
    assert json.dumps(server.requests[0].body["tools"][0]["function"]["parameters"])


def test_malformed_tool_calls_are_answered_as_format_errors(server, home):
    """A null or non-text name, a missing or repeated id, arguments as an object or a number:
    each call is answered (a malformed one as a format error) and the run goes on."""

    @tool
    def weather(city: str) -> str:
        """Weather in a city."""
        return f"rain in {city}"

    server.reply(
        completion(
            tool_calls=[
                {"type": "function", "function": {"name": None, "arguments": "{}"}},
                {"id": "c1", "type": "function", "function": {"name": 7, "arguments": 5}},
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": {"city": "Oslo"}},
                },
            ]
        )
    )
    server.reply(completion("done"))
    result = Agent("w", model=model(server), tools=[weather]).run_sync("Weather?")
    assert (result.stop_reason, result.answer) == ("finished", "done")
    sent = server.requests[1].body["messages"]
    ids = [c["id"] for c in sent[-4]["tool_calls"]]
    assert len(set(ids)) == 3 and ids[1] == "c1"  # each result answers exactly one call
    results = sent[-3:]
    assert [r["tool_call_id"] for r in results] == ids
    assert results[0]["content"].startswith("The call names no tool. Available tools:")
    assert results[1]["content"].startswith("Unknown tool '7'.")
    assert results[2]["content"] == "rain in Oslo"
    errors = [
        e.data["error"]
        for e in EventLog.open(home / "events.db").events(result.run_id, ("tool_result",))
    ]
    assert errors == ["unknown_tool", "unknown_tool", None]


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": -1_000_000, "completion_tokens": 5},
        {"prompt_tokens": 10, "completion_tokens": -3},
        {"prompt_tokens": "12", "completion_tokens": 5},
    ],
)
def test_impossible_token_usage_is_refused(server, usage):
    server.reply({**completion("hi"), "usage": usage})
    field, value = next((k, v) for k, v in usage.items() if not isinstance(v, int) or v < 0)
    with pytest.raises(
        ModelError,
        match=rf"{server.url} reported {field} = {value!r}, which is "
        r"not a token count.*the server is broken",
    ):
        asyncio.run(model(server).request([Message("user", "hi")], []))
    assert len(server.requests) == 1  # a broken server is not retried


def test_negative_usage_cannot_dodge_the_token_limit(server, home):
    server.reply(
        completion(
            tool_calls=[
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "finish", "arguments": '{"answer": "x"}'},
                }
            ],
            prompt=-(10**9),
        )
    )
    result = Agent("w", model=model(server), max_tokens=100).run_sync("go")
    assert result.stop_reason == "model_error" and "prompt_tokens = -1000000000" in result.message
    assert result.usage.total_tokens == 0


@pytest.mark.parametrize(
    ("body", "content_type", "shown"),
    [
        ("<html><body>502 Bad Gateway</body></html>", "text/html", "<html><body>502 Bad Gateway"),
        ('"just a string"', "application/json", '"just a string"'),
        ('{"object": "list", "data": []}', "application/json", '{"object": "list"'),
        ('{"choices": [{"text": "a legacy completion"}]}', "application/json", "legacy"),
        ("x" * 5000, "text/plain", "x" * 200),
    ],
)
def test_a_reply_that_is_not_a_chat_completion_says_so(server, body, content_type, shown):
    server.reply_raw(body, content_type)
    with pytest.raises(ModelError) as info:
        asyncio.run(model(server).request([Message("user", "hi")], []))
    message = str(info.value)
    assert message.startswith(
        f"the endpoint at {server.url} answered with something that is not a chat completion: "
    )
    assert shown in message and "x" * 201 not in message
    assert len(server.requests) == 1


def test_settings_and_extra_fields_on_the_wire_and_the_reply_read_back(server):
    server.reply(completion("hi", model="gpt-4o-mini-2024-07-18"))
    m = OpenAIModel(
        "gpt-4o-mini",
        base_url=server.url,
        price=(1.0, 1.0),
        extra_body={"top_k": 20, "cache_prompt": True},
    )
    r = asyncio.run(
        m.request([Message("user", "hi")], [], ModelSettings(temperature=0.5, max_output_tokens=64))
    )
    body = server.requests[0].body
    assert (body["model"], body["temperature"], body["max_tokens"]) == ("gpt-4o-mini", 0.5, 64)
    assert (body["top_k"], body["cache_prompt"]) == (20, True)
    assert (r.model, r.finish_reason, r.usage.cost_usd) == (
        "gpt-4o-mini-2024-07-18",
        "stop",
        pytest.approx(17 / 1e6),
    )
    assert m.name == "openai:gpt-4o-mini" and m.base_url == server.url
    asyncio.run(m.aclose())
    asyncio.run(m.aclose())  # closing twice is fine, as the Model protocol promises
