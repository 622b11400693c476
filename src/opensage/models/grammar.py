"""Grammars (llama.cpp's GBNF) that admit only well-formed tool calls of the offered tools.

A small model asked for a tool call writes, often enough to sink a run, a call of a tool that
does not exist, arguments that are not JSON (single quotes, raw newlines in strings), several
calls at once with results it imagined, or prose that only describes the call. llama.cpp can
constrain sampling to a grammar; `tool_call_grammar` builds one from the tools' JSON schemas that
admits exactly one call, in the form Qwen's template asks for,

    <tool_call>
    {"name": "view", "arguments": {"path": "calc.py"}}
    </tool_call>

or as the bare object, the form the Qwen models write on their own (held to the tags, the 0.5B
read files at absolute paths it made up: see benchmarks/local_tool_use.py), with a name that is
an offered tool's and arguments valid for that tool's schema (strict JSON: what `json.loads`
reads), and, when asked, a plain-text answer instead (text with no brace, angle bracket or
backtick, so that it cannot hold a half-written call).

The schema subset is what tool signatures produce: objects with properties (required ones
present, optional ones optional, in the schema's order, no others), strings, integers, numbers,
booleans, null, arrays, enums, consts and anyOf/oneOf. Anything else (a `$ref`, `allOf`, a
pattern) admits any JSON value there: the tool still checks its arguments. Layout is fixed to
the compact form `json.dumps` writes (`{"a": 1, "b": [2, 3]}`), so a model cannot pad a call
with whitespace forever.

Building the text costs well under a millisecond per toolset and is cached by the tools' names
and schemas; the server parses it again on each request (see benchmarks/local_tool_use.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from opensage.models.base import ToolSchema

# JSON's own values, strictly: a string has no raw control character.
_BASE = r"""
value ::= object | array | string | number | "true" | "false" | "null"
object ::= "{" ( string ": " value ( ", " string ": " value )* )? "}"
array ::= "[" ( value ( ", " value )* )? "]"
string ::= "\"" char* "\""
char ::= [^"\\\x00-\x1F\x7F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} )
integer ::= "-"? ( "0" | [1-9] [0-9]{0,17} )
number ::= integer ( "." [0-9]{1,20} )? ( [eE] [-+]? [0-9]{1,4} )?
"""
# A final answer written as plain text: no call can hide in it.
_ANSWER = "answer ::= [^<{`\\x00-\\x08 \\t\\n] [^<{`\\x00-\\x08]*\n"
_OPEN, _CLOSE = "<tool_call>\n", "\n</tool_call>"
_NAME, _ARGUMENTS = '{"name": ', ', "arguments": '


def tool_call_grammar(tools: Sequence[ToolSchema], *, answer: bool = False) -> str:
    """A GBNF grammar whose sentences are one call of one of `tools` in Qwen's `<tool_call>`
    form, or also (`answer`) a plain-text answer."""
    key = tuple((t.name, json.dumps(t.parameters)) for t in tools)
    return _grammar(key, answer)


@lru_cache(maxsize=64)
def _grammar(tools: tuple[tuple[str, str], ...], answer: bool) -> str:
    rules = _Rules()
    calls = [
        f"{_literal(json.dumps(name) + _ARGUMENTS)} {rules.add(f'args-{i}', json.loads(schema))}"
        for i, (name, schema) in enumerate(tools)
    ]
    lines = [
        f"root ::= call{' | answer' if answer else ''}",
        f"call ::= {_literal(_OPEN)} object-call {_literal(_CLOSE)} | object-call",
        f"object-call ::= {_literal(_NAME)} ( {' | '.join(calls)} ) " + '"}"',
        *rules.lines,
    ]
    return "\n".join(lines) + _BASE + (_ANSWER if answer else "")


class _Rules:
    """The named rules of the tools' argument schemas."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, name: str, schema: Any) -> str:
        self.lines.append(f"{name} ::= {self.expr(schema, name)}")
        return name

    def expr(self, schema: Any, name: str) -> str:
        """A GBNF expression for the values `schema` admits (`name` prefixes its sub-rules)."""
        if not isinstance(schema, dict):
            return "value"
        if "const" in schema:
            return _literal(json.dumps(schema["const"]))
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return "( " + " | ".join(_literal(json.dumps(v)) for v in schema["enum"]) + " )"
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                parts = [self.add(f"{name}-{i}", o) for i, o in enumerate(options)]
                return "( " + " | ".join(parts) + " )"
        kind = schema.get("type")
        if isinstance(kind, list) and kind:
            parts = [self.add(f"{name}-{t}", {**schema, "type": t}) for t in kind]
            return "( " + " | ".join(parts) + " )"
        if kind == "object":
            return self._object(schema, name)
        if kind == "array":
            items = schema.get("items")
            if not isinstance(items, dict):
                return "array"
            item = self.add(f"{name}-item", items)
            return f'"[" ( {item} ( ", " {item} )* )? "]"'
        return {
            "string": "string",
            "integer": "integer",
            "number": "number",
            "boolean": '( "true" | "false" )',
            "null": '"null"',
        }.get(kind if isinstance(kind, str) else "", "value")

    def _object(self, schema: dict[str, Any], name: str) -> str:
        properties = schema.get("properties")
        if not isinstance(properties, dict) or not properties:
            # No properties named: any object, unless extra ones are refused.
            return '"{}"' if schema.get("additionalProperties") is False else "object"
        required = set(schema.get("required") or ())
        pairs: list[tuple[str, bool]] = []
        for i, (key, sub) in enumerate(properties.items()):
            kv = f"{name}-{i}"
            self.lines.append(f"{kv} ::= {_literal(json.dumps(key) + ': ')} {self.expr(sub, kv)}")
            pairs.append((kv, key in required))
        return f'"{{" {_members(pairs)} "}}"'


def _members(pairs: list[tuple[str, bool]]) -> str:
    """The members in order, required ones always, optional ones maybe, a comma between any
    two written. Built from the end: `after` is what may follow once something is written;
    `start` what may come while nothing is (its non-empty forms; `empty`: nothing at all may)."""
    after, start, empty = "", "", True
    for kv, needed in reversed(pairs):
        written = f"{kv} {after}".strip()
        if needed:
            start, empty = written, False
            after = f'", " {written}'
        else:
            start = f"( {written} | {start} )" if start else written
            after = f'( ", " {kv} )? {after}'.strip()
    return f"( {start} )?" if empty else start


def _literal(text: str) -> str:
    """A GBNF string literal for `text`."""
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    )
    return f'"{escaped}"'


def grammar_for(tools: Sequence[ToolSchema], tool_choice: str, *, auto: bool = True) -> str | None:
    """The grammar a request's tool choice calls for, or None for none: no tools offered, or
    tool choice "none". One tool named admits a call of that tool only (llama.cpp's server
    would constrain a named tool itself, but its grammar lets raw control characters into
    strings, which JSON forbids: the 0.5B wrote a raw tab into code, and the call was lost).
    "required" admits a call only. "auto" (unless `auto` is false) admits a call, or a
    plain-text answer where no `finish` tool is offered: an agent answers through finish, and
    the 0.5B, let to answer in text as well, ended runs on prose about the call it meant to
    make ("Mark the function name as ...")."""
    if not tools or tool_choice == "none":
        return None
    if tool_choice == "required":
        return tool_call_grammar(tools)
    if tool_choice != "auto":
        named = [t for t in tools if t.name == tool_choice]
        return tool_call_grammar(named) if named else None
    if tool_choice == "auto" and auto:
        return tool_call_grammar(tools, answer=not any(t.name == "finish" for t in tools))
    return None
