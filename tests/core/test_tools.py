import asyncio
import json
import os
import sys
import threading

import pytest

from opensage.core.tools import Tool, ToolCallError, Toolset, tool, truncate
from opensage.models.base import ToolCall


@tool
def add(a: int, b: int = 2) -> int:
    """Add two numbers.

    Args:
        a: the first number.
        b: the second number,
            which defaults to two.
    """
    return a + b


def call(name: str, arguments: str) -> ToolCall:
    return ToolCall(id="c1", name=name, arguments=arguments)


def test_schema_comes_from_type_hints_and_docstring():
    schema = add.schema
    assert schema.name == "add"
    assert schema.description == "Add two numbers."
    props = schema.parameters["properties"]
    assert props["a"] == {"type": "integer", "description": "the first number."}
    assert props["b"]["default"] == 2
    assert props["b"]["description"] == "the second number, which defaults to two."
    assert schema.parameters["required"] == ["a"]
    assert "title" not in schema.parameters


def test_untyped_parameter_is_refused_at_definition():
    def bad(x):  # type: ignore[no-untyped-def]
        return x

    with pytest.raises(TypeError, match="needs a type annotation"):
        Tool(bad)


@pytest.mark.parametrize(
    ("raw", "kind", "words"),
    [
        ("{not json", "bad_json", "not valid JSON"),
        ("[1, 2]", "bad_json", "must be a JSON object"),
        ('{"b": 1}', "bad_arguments", "a: required argument is missing"),
        ('{"a": "x"}', "bad_arguments", "a: Input should be a valid integer"),
        ('{"a": 1, "c": 3}', "bad_arguments", "c: unexpected argument"),
    ],
)
def test_malformed_arguments_are_explained(raw, kind, words):
    with pytest.raises(ToolCallError) as info:
        add.parse_arguments(raw)
    assert info.value.kind == kind
    assert words in str(info.value)


def test_arguments_are_validated_and_coerced():
    assert add.parse_arguments('{"a": "3"}') == {"a": 3, "b": 2}
    with pytest.raises(ToolCallError, match="a: required argument is missing"):
        add.parse_arguments("")  # empty text means no arguments, and `a` is required


def test_toolset_reports_unknown_tool_with_the_available_names():
    outcome = asyncio.run(Toolset([add]).call(call("sub", "{}")))
    assert outcome.error == "unknown_tool" and outcome.format_error
    assert "Available tools: add" in outcome.text


def test_exception_becomes_an_error_with_the_traceback():
    def explode(x: int) -> int:
        """Fails."""
        return 1 // x

    outcome = asyncio.run(Toolset([explode]).call(call("explode", '{"x": 0}')))
    assert outcome.error == "exception" and not outcome.format_error
    assert "ZeroDivisionError" in outcome.text and "return 1 // x" in outcome.text


def test_a_traceback_names_files_without_where_this_machine_keeps_them():
    def parse(text: str) -> dict:
        """Fails inside the standard library."""
        return json.loads(text)

    outcome = asyncio.run(Toolset([parse]).call(call("parse", '{"text": "{"}')))
    assert 'File "json/decoder.py"' in outcome.text and "in parse" in outcome.text
    for folder in {sys.prefix, sys.base_prefix, os.path.dirname(json.__file__)}:
        assert folder not in outcome.text


def test_sys_exit_in_a_tool_does_not_end_the_process():
    def leave() -> None:
        """Exits."""
        raise SystemExit(3)

    outcome = asyncio.run(Toolset([leave]).call(call("leave", "{}")))
    assert outcome.error == "exception" and "SystemExit" in outcome.text


def test_timeout_abandons_a_slow_tool():
    order = []

    async def slow() -> str:
        """Sleeps."""
        await asyncio.sleep(5)
        order.append("the tool finished")
        return "late"

    async def scenario():
        outcome = await Toolset([slow]).call(call("slow", "{}"), timeout_s=0.1)
        order.append("the call returned")
        return outcome

    outcome = asyncio.run(scenario())
    assert outcome.error == "timeout" and "timed out after 0.1 s" in outcome.text
    assert order == ["the call returned"]  # not waited out


def test_sync_tools_run_off_the_event_loop():
    entered, answered = threading.Event(), threading.Event()

    def blocking() -> str:
        """Blocks until the event loop has answered: on the loop's own thread it never could."""
        entered.set()
        return "done" if answered.wait(10) else "the event loop was blocked"

    async def scenario() -> str:
        async def answer() -> None:
            while not entered.is_set():
                await asyncio.sleep(0.01)
            answered.set()

        task = asyncio.create_task(answer())
        outcome = await Toolset([blocking]).call(call("blocking", "{}"))
        task.cancel()
        return outcome.text

    assert asyncio.run(scenario()) == "done"  # the loop kept running while the tool blocked


def test_return_values_are_rendered_as_text():
    def data() -> dict:
        """Data."""
        return {"x": [1, 2]}

    outcome = asyncio.run(Toolset([data]).call(call("data", "{}")))
    assert outcome.text == '{"x": [1, 2]}' and outcome.value == {"x": [1, 2]}


def test_truncate_keeps_head_and_tail():
    text = "A" * 1000 + "B" * 1000
    cut = truncate(text, 300, "; see event 7")
    assert cut.startswith("A" * 200) and cut.endswith("B" * 100)
    assert "1700 characters cut; see event 7" in cut
    assert truncate("short", 300) == "short"


def test_duplicate_names_are_refused():
    def other(a: int) -> int:
        return a

    with pytest.raises(ValueError, match="two tools are named 'add'"):
        Toolset([add, Tool(other, name="add")])


def test_a_tools_own_timeout_error_is_an_exception_not_a_crash():
    async def fetch() -> str:
        """Times out on its own socket."""
        raise TimeoutError("read timed out")

    for limit in (None, 30.0):
        outcome = asyncio.run(Toolset([Tool(fetch)]).call(call("fetch", "{}"), timeout_s=limit))
        assert outcome.error == "exception" and "read timed out" in outcome.text
