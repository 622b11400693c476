"""Tool calls written in a reply's text, turned into real tool calls.

Small open models (Qwen2.5-Coder 0.5B and 1.5B among them) are trained to answer a request that
offers tools with a JSON object `{"name": ..., "arguments": {...}}` inside `<tool_call>` tags;
in practice they also write it bare, in a ```json code block, with the doubled braces their
template's example shows (`{{"name": ...}}`), with the arguments as a JSON string, and several
at once, each followed by a result they imagined. A server that does not recognise the form
(llama.cpp's with these models, a vLLM without a tool parser) returns it as text, and an agent
would take it for the final answer. `TextToolCalls` wraps such a model:

- a reply's text is searched for calls (`find_calls`); a call-shaped object naming a tool that
  was not offered, or whose arguments are not an object, still becomes a call, so that the loop
  answers it as a format error the model can correct (unknown tool, arguments not an object); a
  `<tool_call>` block that is not JSON becomes a call whose arguments are the text, answered the
  same way; text with no call in it stays the answer;
- only the first call is kept (`max_calls`), with the text before it: what a small model writes
  after its first call is, in what we saw, calls that assume results it has not seen and the
  results themselves, and keeping them in the history teaches it to go on doing so;
- the history is sent back in the model's own format: each call as the `<tool_call>` block the
  model was asked for (so that it sees the right form in every earlier turn, never the double
  encoded arguments a chat template makes of OpenAI's argument strings), each result as a
  `<tool_response>` block in a user turn (what Qwen's template makes of a tool message).
"""

from __future__ import annotations

import ast
import json
import re
import secrets
from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from opensage.models.base import (
    Message,
    Model,
    ModelResponse,
    ModelSettings,
    ToolCall,
    ToolSchema,
    Usage,
)

_DECODER = json.JSONDecoder()
_TAGGED = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|<\|im_end\|>|$)", re.DOTALL)
_NAME_IN_TEXT = re.compile(r'"name"\s*:\s*"([^"\\]{1,200})"')
_ARGUMENTS_IN_TEXT = re.compile(r'^\s*\{.*?"arguments"\s*:\s*(.*?)\s*\}\s*$', re.DOTALL)
_ARGUMENT_KEYS = ("arguments", "parameters", "args", "input", "tool_input")
_NAME_KEYS = ("name", "tool", "tool_name", "function")
# A whole line that is a call written as Python: `finish({"answer": "x"})`, `view(path="a")`.
_PYTHON_CALL = re.compile(r"^[ \t`]*([A-Za-z_][\w.]*)\((.*)\)[ \t`;]*$", re.MULTILINE)
_OPENERS = re.compile(r"(?:```[a-zA-Z]*|<tool_call>|<tools>|<function_call>)\s*$")


@dataclass(frozen=True, slots=True)
class TextCall:
    """A call found in text: the tool's name, the arguments as JSON text (an object's, or the
    raw text when they are not one), and where it was written."""

    name: str
    arguments: str
    start: int
    end: int


def find_calls(text: str, tool_names: Collection[str] = ()) -> list[TextCall]:
    """Every tool call written in `text`, in order. `tool_names` are the tools offered: they
    let a flat object (`{"name": "view", "path": "a.py"}`) or `{"view": {...}}` count as a
    call, and make a `<tool_call>` block that is not JSON a malformed call of the tool it
    names."""
    found: list[TextCall] = []
    taken: list[tuple[int, int]] = []
    i = text.find("{")
    while i != -1:
        if not any(a <= i < b for a, b in taken):
            decoded = _decode_at(text, i)
            if decoded is not None:
                obj, end = decoded
                call = _as_call(obj, tool_names)
                if call is not None:
                    found.append(TextCall(call[0], call[1], i, end))
                    taken.append((i, end))
                    i = text.find("{", end)
                    continue
        i = text.find("{", i + 1)
    for m in _TAGGED.finditer(text):  # a tagged block with no call found in it
        body, start = m.group(1), m.start()
        if not body.strip() or any(a < m.end() and start < b for a, b in taken):
            continue
        try:  # an object left open before the closing tag
            call = _as_call(json.loads(body + _closers(body)), tool_names)
        except ValueError:
            call = None
        if call is None:  # a malformed call of the tool it names, for the loop to answer
            named = _NAME_IN_TEXT.search(body)
            given = _ARGUMENTS_IN_TEXT.search(body)
            call = (named.group(1) if named else "", given.group(1) if given else body)
        found.append(TextCall(call[0], call[1], start, m.end()))
    if not found:  # an object shaped like a call that is not JSON: a malformed call
        for start in (m.start() for m in re.finditer(r"\{", text)):
            segment, end = _balanced(text, start)
            named, given = _NAME_IN_TEXT.search(segment), _ARGUMENTS_IN_TEXT.search(segment)
            if named and given and segment.lstrip("{").lstrip().startswith('"name"'):
                found.append(TextCall(named.group(1), given.group(1), start, end))
                break
    # finish({"answer": "Paris"}), add(a=1, b=2): only in a reply that is nothing else (in a
    # longer one, such a line is more often part of a program the model wrote out).
    python = [] if found else list(_PYTHON_CALL.finditer(text))
    rest = _PYTHON_CALL.sub("", text).replace("```python", "").replace("```", "").strip()
    for m in python if not rest else ():
        if m.group(1) not in tool_names:
            continue
        arguments = _python_arguments(m.group(2))
        if arguments is not None:
            found.append(TextCall(m.group(1), arguments, m.start(), m.end()))
    found.sort(key=lambda c: c.start)
    return found


def _python_arguments(inside: str) -> str | None:
    """The arguments of a call written as Python, `({...})` or `(a=1, b="x")`, as JSON text;
    None unless they are that plainly (literals only)."""
    inside = inside.strip()
    if not inside:
        return "{}"
    if inside.startswith("{"):
        decoded = _raw_decode(inside, 0)
        if decoded is not None and decoded[1] == len(inside) and isinstance(decoded[0], dict):
            return json.dumps(decoded[0])
    try:
        node = ast.parse(f"f({inside})", mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(node, ast.Call) or node.args or not node.keywords:
        return None
    try:
        values = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
        return json.dumps(values) if len(values) == len(node.keywords) else None
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return None


def _decode_at(text: str, i: int) -> tuple[Any, int] | None:
    """The JSON value that starts at `text[i]` and where it ends, allowing for doubled braces
    (`{{...}}`) and for an object cut off at the end of the text."""
    if text.startswith("{{", i):
        inner = _raw_decode(text, i + 1)
        if inner is not None:
            obj, end = inner
            return obj, end + 1 if text.startswith("}", end) else end
        segment, end = _balanced(text, i)
        undoubled = segment.replace("{{", "{").replace("}}", "}")
        try:
            return json.loads(undoubled), end
        except ValueError:
            return None
    decoded = _raw_decode(text, i)
    if decoded is not None:
        return decoded
    segment, end = _balanced(text, i)
    if end == len(text) and segment.count("{") > segment.count("}"):  # cut off (max tokens)
        try:
            return json.loads(segment.rstrip().rstrip(",") + _closers(segment)), end
        except ValueError:
            return None
    return None


def _raw_decode(text: str, i: int) -> tuple[Any, int] | None:
    try:
        return _DECODER.raw_decode(text, i)
    except ValueError:
        return None


def _balanced(text: str, i: int) -> tuple[str, int]:
    """The text from `i` to the brace that closes the one at `i` (strings respected), or to the
    end of the text when none does."""
    depth = 0
    for j, ch, quoted in _scan(text, i):
        if quoted:
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[i : j + 1], j + 1
    return text[i:], len(text)


def _closers(segment: str) -> str:
    """The brackets that close what `segment` left open, innermost first."""
    stack: list[str] = []
    quoted = False
    for _, ch, quoted in _scan(segment):
        if quoted:
            continue
        if ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
    return ('"' if quoted else "") + "".join(reversed(stack))


def _scan(text: str, start: int = 0) -> Iterator[tuple[int, str, bool]]:
    """Each character of `text` from `start`, its index, and whether a JSON string is open
    after it (so a bracket is structure where this is false)."""
    quoted, escaped = False, False
    for j in range(start, len(text)):
        ch = text[j]
        if not quoted:
            quoted = ch == '"'
        elif escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = False
        yield j, ch, quoted


def _as_call(obj: Any, tool_names: Collection[str]) -> tuple[str, str] | None:
    """(name, arguments as text) when `obj` is shaped like a tool call, else None."""
    if not isinstance(obj, dict):
        return None
    function = obj.get("function")
    if isinstance(function, dict) and isinstance(function.get("name"), str):  # OpenAI's shape
        obj = function
    name = next((obj[k] for k in _NAME_KEYS if isinstance(obj.get(k), str)), None)
    if name is not None:
        key = next((k for k in _ARGUMENT_KEYS if k in obj), None)
        if key is not None:
            return name, _arguments_text(obj[key])
        if name in tool_names:  # flat: {"name": "view", "path": "a.py"}
            name_key = next(k for k in _NAME_KEYS if obj.get(k) == name)
            return name, json.dumps({k: v for k, v in obj.items() if k != name_key})
        return None
    if len(obj) == 1:  # {"view": {"path": "a.py"}}
        ((key, value),) = obj.items()
        if key in tool_names and isinstance(value, dict):
            return key, json.dumps(value)
    return None


def _arguments_text(value: Any) -> str:
    """Arguments as the JSON text of an object where they are one (also when the model wrote
    the object as a JSON string); anything else as it is, for the loop to report."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return json.dumps(decoded) if isinstance(decoded, dict) else value
    return "{}" if value is None else json.dumps(value)


def split_reply(
    text: str,
    tools: Sequence[ToolSchema] = (),
    max_calls: int | None = 1,
    id_prefix: str = "call",
    previous: Sequence[ToolCall] = (),
) -> tuple[str, tuple[ToolCall, ...]]:
    """A reply's text as (the text before its first call, the calls it makes): at most
    `max_calls` of them (None: every one), each tidied against the offered `tools` (see
    `tidy`). A call that repeats one of the `previous` turn's calls exactly, with another call
    after it, is passed over: small models often restate the call whose result they were just
    given before going on, and its result would be the same. With no call, the text is
    returned whole."""
    schemas = {t.name: t for t in tools}
    found = find_calls(text, schemas)
    if not found:
        return text, ()
    calls = [tidy(c.name, c.arguments, schemas) for c in found]
    done = {
        (name, _canonical(arguments))
        for name, arguments in (tidy(c.name, c.arguments, schemas) for c in previous)
    }
    first = 0
    while first < len(calls) - 1 and (calls[first][0], _canonical(calls[first][1])) in done:
        first += 1
    kept = calls[first:] if max_calls is None else calls[first : first + max_calls]
    before = _OPENERS.sub("", text[: found[0].start]).strip()
    return before, tuple(
        ToolCall(f"{id_prefix}_{i}", name, arguments) for i, (name, arguments) in enumerate(kept)
    )


_SCHEMA_WORDS = frozenset(
    {"type", "properties", "required", "additionalProperties", "title", "description", "$schema"}
)


def tidy(name: str, arguments: str, tools: dict[str, ToolSchema]) -> tuple[str, str]:
    """A call as small models get it nearly right, made right where what was meant is plain:
    a name that is an offered tool's but for case, a `functions.` prefix, a file extension or
    `()` (`run_tests.py`, `View`); arguments that copied JSON-schema words (`"type": "object"`,
    `"required": [...]`) from the tool's description next to the real ones. Anything else is
    left as written, for the loop to answer (an unknown tool, arguments that are wrong)."""
    if name not in tools:
        name = _offered_name(name, tools) or name
    schema = tools.get(name)
    if schema is None:
        return name, arguments
    try:
        args = json.loads(arguments)
    except ValueError:
        return name, arguments
    properties = schema.parameters.get("properties") or {}
    if isinstance(args, dict) and any(k in _SCHEMA_WORDS and k not in properties for k in args):
        args = {k: v for k, v in args.items() if k not in _SCHEMA_WORDS or k in properties}
        return name, json.dumps(args)
    return name, arguments


def _offered_name(name: str, tools: Collection[str]) -> str | None:
    key = _name_key(name)
    matching = [t for t in tools if _name_key(t) == key]
    return matching[0] if len(matching) == 1 else None


def _name_key(name: str) -> str:
    name = name.strip().removeprefix("functions.").removesuffix("()")
    name = re.sub(r"\.(py|sh|js|exe)$", "", name)
    return name.lower().replace("-", "_")


def _canonical(arguments: str) -> str:
    try:
        return json.dumps(json.loads(arguments), sort_keys=True)
    except ValueError:
        return arguments


def call_text(call: ToolCall) -> str:
    """A call as the model's template writes it: a `<tool_call>` block with the arguments as an
    object (a malformed call's text as the model wrote it)."""
    try:
        arguments = json.dumps(json.loads(call.arguments)) if call.arguments.strip() else "{}"
    except ValueError:
        arguments = call.arguments
    name = json.dumps(call.name)
    return f'<tool_call>\n{{"name": {name}, "arguments": {arguments}}}\n</tool_call>'


def as_text_history(messages: Sequence[Message]) -> list[Message]:
    """The conversation with tool calls and results written as text in the model's format:
    an assistant's calls as `<tool_call>` blocks after its text, consecutive tool results as
    `<tool_response>` blocks in one user turn."""
    out: list[Message] = []
    results: list[str] = []

    def flush() -> None:
        if results:
            out.append(Message("user", "\n".join(results)))
            results.clear()

    for m in messages:
        if m.role == "tool":
            results.append(f"<tool_response>\n{m.content}\n</tool_response>")
            continue
        flush()
        if m.role == "assistant" and m.tool_calls:
            parts = [m.content] if m.content else []
            parts += [call_text(c) for c in m.tool_calls]
            out.append(Message("assistant", "\n".join(parts)))
        else:
            out.append(m)
    flush()
    return out


def parse_text_reply(
    response: ModelResponse,
    tools: Sequence[ToolSchema],
    settings: ModelSettings | None = None,
    max_calls: int | None = 1,
    history: Sequence[Message] = (),
) -> ModelResponse:
    """The response with the calls written in its text made real (see `split_reply`; the
    previous turn's calls are the last ones in `history`); as it is when the server returned
    calls itself, or no tool was offered (or tool choice "none"), or the text has none."""
    message = response.message
    if message.tool_calls or not tools or (settings and settings.tool_choice == "none"):
        return response
    previous = next((m.tool_calls for m in reversed(history) if m.role == "assistant"), ())
    # Ids unique in the conversation, also across a resumed run's new model object.
    content, calls = split_reply(
        message.content,
        tools,
        max_calls,
        id_prefix=f"call_{secrets.token_hex(4)}",
        previous=previous,
    )
    if not calls:
        return response
    return replace(response, message=Message("assistant", content, tool_calls=calls))


Send = Callable[[list[Message]], Awaitable[ModelResponse]]


async def ask(
    send: Send,
    messages: Sequence[Message],
    tools: Sequence[ToolSchema],
    settings: ModelSettings | None = None,
    max_calls: int | None = 1,
    retry_restated: bool = True,
) -> ModelResponse:
    """One request of a model that writes its calls as text: `send` gets the history in the
    model's format (`as_text_history`) and the reply's calls are found (`parse_text_reply`).

    With `retry_restated`, a reply whose only call, written as text, restates the previous
    turn's call is asked again, once, with that call's result shown plainly and the model told
    not to repeat it. Small models, given a result in their own `<tool_response>` format, tend
    to write the call that produced it again and again: Qwen2.5-Coder-0.5B restated its add
    call in every run of benchmarks/local_tool_use.py's add task and never answered; asked
    again this way, it answered 42 in every run. The history keeps the usual format; the usage
    of both requests is counted."""
    raw = await send(as_text_history(messages))
    response = parse_text_reply(raw, tools, settings, max_calls, messages)
    if raw.message.tool_calls:  # the server's own calls (a forced tool choice): as they are
        return response
    tail = len(messages)
    while tail and messages[tail - 1].role == "tool":
        tail -= 1
    previous = messages[tail - 1].tool_calls if tail and tail < len(messages) else ()
    if not retry_restated or not previous or not _restates(response, previous, tools):
        return response
    shown = "\n".join(
        f"You called {c.name} and it returned:\n{m.content}"
        for c, m in zip(previous, messages[tail:], strict=False)
    )
    names = " or ".join(sorted({c.name for c in previous}))
    then = (
        "call finish(answer), or call a different tool"
        if any(t.name == "finish" for t in tools)
        else "answer, or call a different tool"
    )
    note = Message(
        "user", f"{shown}\nDo not call {names} again. Use this result to answer the task: {then}."
    )
    retried = parse_text_reply(
        await send(as_text_history([*messages[:tail], note])), tools, settings, max_calls, messages
    )
    usage = Usage()
    usage.add(response.usage)
    usage.add(retried.usage)
    return replace(retried, usage=usage)


def _restates(
    response: ModelResponse, previous: Sequence[ToolCall], tools: Sequence[ToolSchema]
) -> bool:
    calls = response.message.tool_calls
    if len(calls) != 1:
        return False
    schemas = {t.name: t for t in tools}
    done = {(n, _canonical(a)) for n, a in (tidy(c.name, c.arguments, schemas) for c in previous)}
    return (calls[0].name, _canonical(calls[0].arguments)) in done


class TextToolCalls:
    """A model whose tool calls come back as text, made to return real ones (see the module's
    doc and `ask`). Calls the server did return (a forced tool choice) are kept as they are."""

    def __init__(self, inner: Model, *, max_calls: int | None = 1, retry_restated: bool = True):
        self.inner = inner
        self.max_calls = max_calls
        self.retry_restated = retry_restated

    @property
    def name(self) -> str:
        return self.inner.name

    async def request(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSchema],
        settings: ModelSettings | None = None,
    ) -> ModelResponse:
        async def send(sent: list[Message]) -> ModelResponse:
            return await self.inner.request(sent, tools, settings)

        return await ask(send, messages, tools, settings, self.max_calls, self.retry_restated)

    async def aclose(self) -> None:
        await self.inner.aclose()
