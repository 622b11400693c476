"""The agent loop, driven by the scripted model."""

import asyncio
import contextlib
import sqlite3

import pytest

from opensage import Agent, tool
from opensage.core.events import EventLog
from opensage.errors import ConfigError
from opensage.models import ScriptedModel, tool_call
from opensage.models.base import Message, ModelResponse, ToolCall, Usage
from opensage.models.scripted import FunctionModel


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def calls(*pairs: tuple[str, dict]) -> dict:
    """One model turn with several tool calls."""
    return {"tool_calls": [{"name": n, "arguments": a} for n, a in pairs]}


def run(model: ScriptedModel, *tools, **kwargs):
    return Agent("tester", "Be precise.", model=model, tools=tools, **kwargs).run_sync("the task")


def events(home, run_id, *kinds):
    return EventLog(home / "events.db").events(run_id, kinds)


def test_tool_round_trip(home):
    model = ScriptedModel([tool_call("add", a=2, b=3), tool_call("finish", answer="5")])
    result = run(model, add)
    assert (result.answer, result.stop_reason, result.steps) == ("5", "finished", 2)
    # The model was sent the system prompt and task, then saw its call and the result.
    first, second = model.requests
    assert [m.role for m in first] == ["system", "user"]
    assert first[0].content == "Be precise." and first[1].content == "the task"
    assert [m.role for m in second] == ["system", "user", "assistant", "tool"]
    assert second[-1].content == "5" and second[-1].tool_call_id == second[-2].tool_calls[0].id
    model.assert_exhausted()


def test_parallel_tool_calls_run_concurrently(home):
    arrived: list[str] = []

    @tool
    async def wait(name: str) -> str:
        """Wait until all three calls are running: calls run one after another never meet."""
        arrived.append(name)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(10):
                while len(arrived) < 3:
                    await asyncio.sleep(0.01)
        return f"{name} done" if len(arrived) == 3 else f"{name} alone"

    model = ScriptedModel(
        [
            calls(("wait", {"name": "x"}), ("wait", {"name": "y"}), ("wait", {"name": "z"})),
            tool_call("finish", answer="ok"),
        ]
    )
    result = run(model, wait)
    results = [m.content for m in model.requests[1] if m.role == "tool"]
    assert results == ["x done", "y done", "z done"]  # answered in the order called
    assert result.ok


@pytest.mark.parametrize(
    ("bad_turn", "error", "words"),
    [
        (tool_call("subtract", a=1), "unknown_tool", "Unknown tool 'subtract'"),
        ({"tool_calls": [{"name": "add", "arguments": "{'a': 1"}]}, "bad_json", "not valid JSON"),
        (tool_call("add", a=1, b="two"), "bad_arguments", "b: Input should be a valid integer"),
        (tool_call("add", a=1), "bad_arguments", "b: required argument is missing"),
        (tool_call("crash"), "exception", "RuntimeError: boom"),
        (tool_call("hang"), "timeout", "timed out"),
    ],
)
def test_each_malformed_or_failing_call_is_answered_and_recovered_from(
    home, bad_turn, error, words
):
    @tool
    def crash() -> str:
        """Always fails."""
        raise RuntimeError("boom")

    @tool(timeout_s=0.1)
    async def hang() -> str:
        """Never returns."""
        await asyncio.sleep(10)
        return "never"

    model = ScriptedModel([bad_turn, tool_call("add", a=1, b=2), tool_call("finish", answer="3")])
    result = run(model, add, crash, hang)
    assert result.ok and result.answer == "3"
    error_message = model.requests[1][-1]
    assert error_message.role == "tool" and error_message.is_error
    assert words in error_message.content
    assert model.requests[2][-1].content == "3"  # the next, corrected call worked
    (bad, good, _) = events(home, result.run_id, "tool_result")
    assert bad.data["error"] == error and good.data["ok"]


UNKNOWN_TOOL = tool_call("nope")
BAD_JSON = {"tool_calls": [{"name": "add", "arguments": "{'a': 1"}]}
BAD_ARGUMENTS = tool_call("add", a=1, b="two")  # valid JSON that does not fit the schema
NO_NAME = {"tool_calls": [{"name": None, "arguments": {}}]}


@pytest.mark.parametrize(
    "bad",
    [UNKNOWN_TOOL, BAD_JSON, BAD_ARGUMENTS, NO_NAME, ""],
    ids=["unknown_tool", "bad_json", "bad_arguments", "no_name", "empty"],
)
def test_consecutive_format_errors_of_each_kind_stop_the_run(home, bad):
    model = ScriptedModel([bad, bad, tool_call("add", a=1, b=1), bad, bad, bad, "unused"])
    result = run(model, add, max_format_errors=3)
    assert result.stop_reason == "format_errors"
    assert "3 malformed turns in a row" in result.message
    assert result.steps == 6  # the good call in between reset the count
    assert len(model.unused) == 1


def test_format_errors_of_different_kinds_add_up(home):
    model = ScriptedModel([UNKNOWN_TOOL, BAD_JSON, BAD_ARGUMENTS, "unused"])
    result = run(model, add, max_format_errors=3)
    assert (result.stop_reason, result.steps) == ("format_errors", 3)


def test_a_call_without_a_name_is_answered_and_the_run_goes_on(home):
    model = ScriptedModel([NO_NAME, tool_call("finish", answer="ok")])
    result = run(model, add)
    assert (result.stop_reason, result.answer) == ("finished", "ok")
    told = model.requests[1][-1]
    assert told.is_error and told.content == "The call names no tool. Available tools: add, finish."
    (bad, _finish) = events(home, result.run_id, "tool_result")
    assert bad.data["error"] == "unknown_tool"


def test_a_model_outside_opensage_cannot_break_the_loop_with_a_malformed_reply(home):
    """The adapters check what endpoints send; a model written elsewhere may not."""
    reply = ModelResponse(
        Message(
            "assistant",
            None,
            tool_calls=(  # type: ignore[arg-type]
                ToolCall("same", None, None),  # type: ignore[arg-type]
                ToolCall("same", "add", {"a": 1, "b": 2}),
            ),
        )
    )  # type: ignore[arg-type]
    model = ScriptedModel([reply, tool_call("finish", answer="ok")])
    result = run(model, add)
    assert (result.stop_reason, result.answer) == ("finished", "ok")
    calls, first, second = model.requests[1][-3:]
    assert [c.id for c in calls.tool_calls] == ["same", "same_1"]
    assert (first.tool_call_id, first.is_error) == ("same", True)
    assert (second.tool_call_id, second.content) == ("same_1", "3")


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (
            ModelResponse(Message("assistant", "hi"), usage=Usage(input_tokens=-(10**9))),
            "usage that cannot be: -1000000000 input",
        ),
        (ModelResponse(Message("assistant", "hi"), usage=Usage(cost_usd=-5.0)), "$-5.0"),
        (
            ModelResponse(Message("assistant", "hi"), usage=Usage(output_tokens="7")),  # type: ignore
            "'7' output tokens",
        ),
        ("a bare string", "returned 'str', not a ModelResponse"),
    ],
)
def test_a_model_reporting_impossible_usage_or_a_non_response_fails(home, reply, words):
    class Raw(ScriptedModel):
        def _respond(self, step):
            return step  # as it is, whatever it is

    result = run(Raw([reply]), add, max_tokens=100)
    assert result.stop_reason == "model_error" and words in result.message
    assert result.usage.total_tokens == 0


def test_a_duplicate_call_id_in_one_reply_still_pairs_each_result_with_its_call(home):
    step = {
        "tool_calls": [
            {"id": "x", "name": "add", "arguments": {"a": 1, "b": 1}},
            {"id": "x", "name": "add", "arguments": {"a": 2, "b": 2}},
        ]
    }
    model = ScriptedModel([step, tool_call("finish", answer="ok")])
    result = run(model, add)
    calls, one, two = model.requests[1][-3:]
    assert [c.id for c in calls.tool_calls] == ["x", "x_1"]
    assert [(one.tool_call_id, one.content), (two.tool_call_id, two.content)] == [
        ("x", "2"),
        ("x_1", "4"),
    ]
    recorded = [
        (e.data["call_id"], e.data["name"]) for e in events(home, result.run_id, "tool_call")
    ]
    assert recorded == [("x", "add"), ("x_1", "add"), ("call_2_0", "finish")]


def test_finish_with_an_empty_answer_ends_the_run(home):
    model = ScriptedModel([tool_call("finish", answer=""), "unused"])
    result = run(model)
    assert (result.stop_reason, result.answer, result.steps) == ("finished", "", 1)
    assert len(model.unused) == 1


def test_a_reply_without_tool_calls_is_the_answer(home):
    result = run(ScriptedModel(["The answer is 42."]))
    assert (result.stop_reason, result.answer) == ("finished", "The answer is 42.")


@pytest.mark.parametrize("empty", ["", " \n "])
def test_an_empty_reply_is_a_malformed_turn_not_an_answer(home, empty):
    model = ScriptedModel([empty, "The answer is 42."])
    result = run(model)
    assert (result.stop_reason, result.answer, result.steps) == ("finished", "The answer is 42.", 2)
    told = model.requests[1][-1]
    assert (told.role, told.content) == (
        "user",
        "Your reply was empty. Answer the task, or call a tool.",
    )


def test_require_finish_nudges_a_model_that_only_talks(home):
    model = ScriptedModel(["thinking out loud", tool_call("finish", answer="done")])
    result = run(model, require_finish=True)
    assert result.answer == "done"
    assert "call finish(answer)" in model.requests[1][-1].content


@pytest.mark.parametrize(
    ("limits", "reason", "words"),
    [
        ({"max_steps": 3}, "max_steps", "step limit of 3"),
        ({"max_tokens": 250}, "max_tokens", "token limit of 250"),
        ({"max_cost_usd": 0.0025}, "max_cost", "cost limit of $0.0025"),
    ],
)
def test_each_budget_limit_stops_the_run(home, limits, reason, words):
    # Every step uses 100 tokens, priced at $10 per million: $0.001 a step.
    step = {**tool_call("add", a=1, b=1), "usage": {"input_tokens": 80, "output_tokens": 20}}
    model = ScriptedModel([step] * 10, price=(10.0, 10.0))
    result = run(model, add, **limits)
    assert result.stop_reason == reason and words in result.message
    assert result.steps == 3
    assert result.usage.total_tokens == 300
    assert result.usage.cost_usd == pytest.approx(0.003)


@pytest.mark.parametrize(("max_tokens", "steps"), [(300, 3), (301, 4)])
def test_tokens_landing_exactly_on_the_limit_stop_the_run(home, max_tokens, steps):
    step = {**tool_call("add", a=1, b=1), "usage": {"input_tokens": 80, "output_tokens": 20}}
    result = run(ScriptedModel([step] * 10), add, max_tokens=max_tokens)
    assert (result.stop_reason, result.steps) == ("max_tokens", steps)
    assert result.usage.total_tokens == steps * 100


def test_time_limit_interrupts_a_slow_model(home):
    model = ScriptedModel([tool_call("add", a=1, b=1), {"delay_s": 5, "text": "late"}])
    answered = []
    request = model.request

    async def noting(messages, tools, settings=None):
        reply = await request(messages, tools, settings)
        answered.append(reply.message.content or "a tool call")
        return reply

    model.request = noting
    result = run(model, add, max_seconds=0.5)
    assert result.stop_reason == "max_time" and "time limit of 0.5 s" in result.message
    assert answered == ["a tool call"]  # cut off while the model was still answering


def test_time_limit_interrupts_a_slow_tool(home):
    @tool
    async def slow() -> str:
        """Slow."""
        await asyncio.sleep(5)
        return "late"

    result = run(ScriptedModel([tool_call("slow"), "unused"]), slow, max_seconds=0.3)
    assert result.stop_reason == "max_time"
    (res,) = events(home, result.run_id, "tool_result")
    assert res.data["error"] == "timeout"


def test_a_failing_model_ends_the_run_with_a_reason(home):
    model = ScriptedModel([tool_call("add", a=1, b=1), {"raise": "auth", "message": "bad key"}])
    result = run(model, add)
    assert result.stop_reason == "model_error" and "bad key" in result.message
    (err,) = events(home, result.run_id, "model_error")
    assert err.data == {"error": "ModelAuthError", "message": "bad key"}


def test_a_script_that_runs_out_says_so(home):
    result = run(ScriptedModel([tool_call("add", a=1, b=1)]), add)
    assert result.stop_reason == "model_error"
    assert "has no step 2 (the script has 1)" in result.message


def test_long_outputs_are_cut_for_the_model_and_kept_whole(home):
    @tool
    def big() -> str:
        """Lots of output."""
        return "x" * 50_000 + "END"

    model = ScriptedModel([tool_call("big"), tool_call("finish", answer="ok")])
    result = Agent("t", model=model, tools=[big]).run_sync("go")
    shown = model.requests[1][-1].content
    assert len(shown) < 17_000 and shown.endswith("END")
    res, _finish = events(home, result.run_id, "tool_result")
    assert f"the full output is event {res.id}" in shown
    assert res.data["full_output"] == "x" * 50_000 + "END"


def test_instructions_tools_and_models_are_per_agent(home):
    seen = {}

    def reply(name):
        def fn(messages, tools):
            seen[name] = (messages[0].content, sorted(t.name for t in tools))
            return "ok"

        return fn

    @tool
    def only_b() -> str:
        """B's tool."""
        return "b"

    Agent("a", "You are A.", model=FunctionModel(reply("a")), tools=[add]).run_sync("x")
    Agent("b", "You are B.", model=FunctionModel(reply("b")), tools=[only_b]).run_sync("x")
    assert seen == {
        "a": ("You are A.", ["add", "finish"]),
        "b": ("You are B.", ["finish", "only_b"]),
    }


def test_every_step_is_an_event_with_a_parent(home):
    model = ScriptedModel([tool_call("add", a=1, b=2), tool_call("finish", answer="3")])
    result = run(model, add)
    evs = events(home, result.run_id)
    kinds = [e.kind for e in evs]
    assert kinds == [
        "run_started",
        "agent_started",
        "model_request",
        "model_response",
        "budget_charge",
        "tool_call",
        "tool_result",
        "model_request",
        "model_response",
        "budget_charge",
        "tool_call",
        "tool_result",
        "agent_finished",
        "run_finished",
    ]
    by_id = {e.id: e for e in evs}
    parents = {e.kind: by_id[e.parent].kind for e in evs if e.parent}
    assert parents == {
        "agent_started": "run_started",
        "model_request": "agent_started",
        "model_response": "model_request",
        "budget_charge": "model_response",
        "tool_call": "model_response",
        "tool_result": "tool_call",
        "agent_finished": "agent_started",
        "run_finished": "run_started",
    }
    # A request names how much of the conversation it sent, rather than copying it.
    requests = [e for e in evs if e.kind == "model_request"]
    assert [r.data["upto"] for r in requests] == [2, 4]


def test_each_message_is_stored_once(home):
    model = ScriptedModel([tool_call("add", a=1, b=2), tool_call("finish", answer="3")])
    result = run(model, add)
    log = EventLog(home / "events.db")
    conv = events(home, result.run_id, "agent_started")[0].id
    stored = log.conversation(result.run_id, conv)
    assert stored == model.requests[1] + [stored[-2], stored[-1]]
    assert len(stored) == 6  # system, user, call, result, finish call, finish result
    count = log._db.execute(
        "SELECT COUNT(*) FROM messages WHERE run_id = ?", (result.run_id,)
    ).fetchone()[0]
    assert count == 6


def test_everything_is_committed_before_the_agent_waits(home):
    seen = {}

    @tool
    async def peek() -> str:
        """Look at the log from outside while waiting."""
        await asyncio.sleep(0.01)  # a real wait: the log must be on disk by now
        with sqlite3.connect(home / "events.db") as other:
            seen["kinds"] = [k for (k,) in other.execute("SELECT kind FROM events ORDER BY id")]
        return "seen"

    run(ScriptedModel([tool_call("peek"), "done"]), peek)
    assert seen["kinds"] == [
        "run_started",
        "agent_started",
        "model_request",
        "model_response",
        "budget_charge",
        "tool_call",
    ]


def test_on_event_sees_only_its_own_run(home):
    async def two_runs():
        seen: dict[str, list[str]] = {"a": [], "b": []}

        def watch(name):
            return lambda kind, agent, data: seen[name].append(agent)

        slow = {"delay_s": 0.05, "text": "done"}
        await asyncio.gather(
            Agent("a", model=ScriptedModel([slow])).run("x", on_event=watch("a")),
            Agent("b", model=ScriptedModel([slow])).run("x", on_event=watch("b")),
        )
        return seen

    seen = asyncio.run(two_runs())
    assert set(seen["a"]) == {"a", None} and set(seen["b"]) == {"b", None}
    assert len(seen["a"]) == len(seen["b"]) == 7  # unfiltered, each would see 14


class ChoiceRecorder(ScriptedModel):
    """A scripted model that notes the tool each request forced ("auto": none)."""

    def __init__(self, steps):
        super().__init__(steps)
        self.choices: list[str] = []

    async def request(self, messages, tools, settings=None):
        self.choices.append(settings.tool_choice if settings else "auto")
        return await super().request(messages, tools, settings)


def test_an_opening_forces_its_tools_at_the_first_steps_then_the_model_chooses(home):
    model = ChoiceRecorder(
        [
            tool_call("add", a=1, b=2),
            tool_call("add", a=3, b=4),
            tool_call("add", a=5, b=6),
            tool_call("finish", answer="done"),
        ]
    )
    result = run(model, add, opening=["add", "add"])
    assert result.answer == "done"
    assert model.choices == ["add", "add", "auto", "auto"]


def test_an_opening_naming_a_tool_the_agent_lacks_is_refused_before_any_request(home):
    model = ChoiceRecorder([tool_call("finish", answer="never")])
    with pytest.raises(ConfigError, match="is to open with run_tests, which it does not have"):
        run(model, add, opening=["run_tests"])
    assert model.choices == []
