"""The tool-call grammar with the real Qwen2.5-Coder-0.5B: llama.cpp itself admits exactly the
well-formed calls of the offered tools (checked token by token on the model's vocabulary), and
the model, constrained through the server over HTTP, writes calls that are well-formed, name an
offered tool and carry valid arguments."""

from __future__ import annotations

import asyncio
import ctypes
import json
import math
from collections.abc import Iterator

import pytest

from opensage.models.base import Message, ModelSettings, ToolSchema
from opensage.models.grammar import tool_call_grammar
from opensage.models.local import LocalModel, find_gguf

pytestmark = [pytest.mark.integration]

C = pytest.importorskip("llama_cpp.llama_cpp")

VIEW = ToolSchema(
    "view",
    "Show a file, or some of its lines.",
    {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "the file"},
            "view_range": {
                "anyOf": [{"type": "array", "items": {"type": "integer"}}, {"type": "null"}],
                "description": "[start, end] lines",
            },
        },
        "required": ["path"],
        "additionalProperties": False,
    },
)
RUN = ToolSchema(
    "run_command",
    "Run a shell command.",
    {
        "type": "object",
        "properties": {
            "command": {"type": "string"},
            "timeout_s": {"type": "number"},
            "background": {"type": "boolean"},
        },
        "required": ["command"],
        "additionalProperties": False,
    },
)
ADD = ToolSchema(
    "add",
    "Add two integers.",
    {
        "type": "object",
        "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
        "required": ["a", "b"],
        "additionalProperties": False,
    },
)
LIST = ToolSchema(
    "list_files",
    "List a folder.",
    {"type": "object", "properties": {"path": {"type": "string"}}, "additionalProperties": False},
)
FINISH = ToolSchema(
    "finish",
    "End the run with the final answer.",
    {"type": "object", "properties": {"answer": {"type": "string"}}, "required": ["answer"]},
)
TOOLS = [VIEW, RUN, ADD, LIST, FINISH]


@pytest.fixture(scope="module")
def vocab() -> Iterator[object]:
    params = C.llama_model_default_params()
    params.vocab_only = True
    model = C.llama_model_load_from_file(str(find_gguf("qwen-0.5b")).encode(), params)
    assert model
    yield C.llama_model_get_vocab(model)
    C.llama_model_free(model)


def admits(vocab: object, grammar: str, text: str) -> bool:
    """Whether llama.cpp's grammar sampler lets the model write `text` (as the model's tokens,
    special ones included) and then end its turn."""
    sampler = C.llama_sampler_init_grammar(vocab, grammar.encode(), b"root")
    assert sampler, "llama.cpp could not parse the grammar"
    encoded = text.encode()
    buffer = (C.llama_token * (len(encoded) + 8))()
    count = C.llama_tokenize(vocab, encoded, len(encoded), buffer, len(buffer), False, True)
    try:
        for token in [*buffer[:count], C.llama_vocab_eot(vocab)]:
            data = (C.llama_token_data * 1)(C.llama_token_data(token, 0.0, 0.0))
            candidates = C.llama_token_data_array(data, 1, -1, False)
            C.llama_sampler_apply(sampler, ctypes.byref(candidates))
            if math.isinf(data[0].logit):
                return False
            C.llama_sampler_accept(sampler, token)
        return True
    finally:
        C.llama_sampler_free(sampler)


def call(name: str, arguments: str) -> str:
    return f'<tool_call>\n{{"name": "{name}", "arguments": {arguments}}}\n</tool_call>'


ADMITTED = [
    call("view", '{"path": "calc.py"}'),
    call("view", '{"path": "calc.py", "view_range": [1, 20]}'),
    call("view", '{"path": "calc.py", "view_range": null}'),
    call("run_command", '{"command": "ls", "timeout_s": 1.5e3, "background": true}'),
    call("run_command", '{"command": "ls", "background": false}'),
    call("add", '{"a": -17, "b": 25}'),
    call("list_files", "{}"),
    call("list_files", '{"path": "src"}'),
    call("finish", '{"answer": "line one\\nline \\"two\\" \\u00e9 \u00e9"}'),
    '{"name": "add", "arguments": {"a": 1, "b": 2}}',  # bare, as the models write calls
]
REFUSED = [
    call("calculator", '{"a": 1, "b": 2}'),  # no such tool
    call("view", "{'path': 'calc.py'}"),  # single quotes: not JSON
    call("view", '{"file": "calc.py"}'),  # not one of its arguments
    call("view", '{"view_range": [1, 2]}'),  # its required argument missing
    call("add", '{"a": 1.5, "b": 2}'),  # not an integer
    call("run_command", '{"timeout_s": 5, "command": "ls"}'),  # not the schema's order
    call("finish", '{"answer": "line one\nline two"}'),  # a raw newline in a string
    call("add", '{"a": 1, "b": 2}') + "\n" + call("add", '{"a": 3, "b": 4}'),  # two calls
    '{"name": "add", "arguments": {"a": 1, "b": 2}}\n</tool_call>',  # a tag not opened
    'Sure: {"name": "add", "arguments": {"a": 1, "b": 2}}',  # text before the call
    "The answer is 3.",  # finish is offered: the answer is its argument
]


def test_llama_cpp_admits_exactly_the_well_formed_calls(vocab):
    grammar = tool_call_grammar(TOOLS)
    assert [t for t in ADMITTED if not admits(vocab, grammar, t)] == []
    assert [t for t in REFUSED if admits(vocab, grammar, t)] == []
    with_answers = tool_call_grammar(TOOLS, answer=True)
    assert admits(vocab, with_answers, "The answer is 3.")
    assert admits(vocab, with_answers, call("add", '{"a": 1, "b": 2}'))
    assert not admits(vocab, with_answers, 'Sure: {"name": "add", "arguments": {"a": 1, "b": 2}}')


def valid(arguments: dict[str, object], schema: ToolSchema) -> bool:
    """The arguments fit the schema (the types these tools use)."""
    properties = schema.parameters["properties"]
    kinds = {"string": str, "integer": int, "number": (int, float), "boolean": bool}
    if set(schema.parameters.get("required", ())) - set(arguments) or set(arguments) - set(
        properties
    ):
        return False
    for key, value in arguments.items():
        want = properties[key].get("type")
        if want in kinds and not isinstance(value, kinds[want]):
            return False
    return True


def prompt(task: str) -> list[Message]:
    return [Message("system", "You are an agent. Use your tools."), Message("user", task)]


@pytest.mark.slow
def test_the_constrained_0_5b_writes_valid_calls_over_http(home):
    """Through the server, one request per task, each its own seed, a call required: every
    reply is one call of an offered tool with valid arguments, and nothing else. (Without the
    grammar the first is answered in text, "The capital of France is Paris.": the server takes
    a required call for an optional one.)"""
    tasks = [
        "What is the capital of France?",
        "Show me the first 10 lines of calc.py.",
        "What is 17 plus 25?",
        "How many lines does data.csv have? Use a shell command.",
    ]
    schemas = {t.name: t for t in TOOLS}

    async def scenario() -> list[Message]:
        model = LocalModel("qwen-0.5b", seed=0, retry_restated=False)  # seeds 0, 1, ...
        # "required": llama-cpp-python's server takes it for "auto"; the grammar enforces it.
        settings = ModelSettings(tool_choice="required", max_output_tokens=80)
        try:
            return [(await model.request(prompt(task), TOOLS, settings)).message for task in tasks]
        finally:
            await model.aclose()

    for reply in asyncio.run(scenario()):
        assert reply.content == "" and len(reply.tool_calls) == 1, reply
        (made,) = reply.tool_calls
        assert made.name in schemas, reply
        arguments = json.loads(made.arguments)
        assert valid(arguments, schemas[made.name]), reply
