"""Tools: typed Python functions the model can call.

`@tool` reads a function's signature and docstring once, at decoration, into a JSON schema (via
pydantic) and a validator. A parameter annotated `RunContext` is not the model's to fill: it is
left out of the schema and given the context of the call (the calling agent, its event, the work
dir...). Calling a tool never raises into the agent loop: every failure (an unknown name,
arguments that are not JSON, arguments that do not fit the schema, an exception, a timeout)
becomes a `ToolOutcome` with an error message written for the model to act on.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
import sys
import time
import traceback
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, overload

import pydantic

from opensage.core.aio import on_first_wait
from opensage.core.context import RunContext
from opensage.models.base import ToolCall, ToolSchema

ErrorKind = Literal["unknown_tool", "bad_json", "bad_arguments", "exception", "timeout", "failed"]
# Kinds that mean the model wrote a malformed call, as opposed to a call that failed to run.
FORMAT_ERRORS: frozenset[str] = frozenset({"unknown_tool", "bad_json", "bad_arguments"})


@dataclass(slots=True)
class ToolOutcome:
    text: str  # what the model sees (before truncation)
    error: ErrorKind | None = None
    value: Any = None  # the tool's return value, for the loop (e.g. finish's answer)
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def format_error(self) -> bool:
        return self.error in FORMAT_ERRORS


class Tool:
    """A function with the schema the model sees. Build one with `@tool` or `Tool(fn)`."""

    takes_context = False  # whether a call needs its RunContext (`invoke`'s `ctx`)

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout_s: float | None = None,
    ):
        self.fn = fn
        self.name = name or fn.__name__
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]{0,63}", self.name):
            raise ValueError(f"tool name {self.name!r} must be 1-64 letters, digits, _ or -")
        summary, arg_docs = parse_docstring(inspect.getdoc(fn) or "")
        self.description = description or summary or self.name
        self.timeout_s = timeout_s
        self.is_async = inspect.iscoroutinefunction(fn)
        hints = _type_hints(fn, self.name)
        # The parameter the call's context goes to, if the function asks for it.
        self.context_param = next((p for p, h in hints.items() if h is RunContext), None)
        self.takes_context = self.context_param is not None
        self._args_model = _arguments_model(fn, self.name, hints, arg_docs)
        self.schema = ToolSchema(
            self.name, self.description, _clean_schema(self._args_model.model_json_schema())
        )

    def __repr__(self) -> str:
        return f"Tool({self.name!r})"

    def parse_arguments(self, raw: str) -> dict[str, Any]:
        """Raw JSON text -> validated keyword arguments. Raises `ToolCallError` for the model."""
        args = load_arguments(self.name, raw)
        try:
            validated = self._args_model.model_validate(args)
        except pydantic.ValidationError as exc:
            raise ToolCallError("bad_arguments", _describe_validation(self, exc)) from None
        return {k: getattr(validated, k) for k in type(validated).model_fields}

    async def invoke(self, args: dict[str, Any], ctx: RunContext | None = None) -> Any:
        """Run the function (given `ctx` if it asks for it). Sync functions run in a worker
        thread so they never block the loop."""
        if self.context_param is not None:
            if ctx is None:
                raise RuntimeError(
                    f"tool {self.name} takes a RunContext: call it in an agent's "
                    "run, or pass the context to Toolset.call"
                )
            args[self.context_param] = ctx
        if self.is_async:
            return await self.fn(**args)
        return await asyncio.to_thread(self.fn, **args)


def load_arguments(tool: str, raw: str) -> dict[str, Any]:
    """The JSON object a model sent as a tool's arguments, or a `ToolCallError` saying why not."""
    try:
        args = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as exc:
        raise ToolCallError(
            "bad_json",
            f"Arguments for {tool} are not valid JSON "
            f"({exc.msg} at position {exc.pos}): {raw[:500]!r}. "
            "Send a JSON object.",
        ) from None
    if not isinstance(args, dict):
        raise ToolCallError(
            "bad_json",
            f"Arguments for {tool} must be a JSON object, got {type(args).__name__}: {raw[:200]!r}",
        )
    return args


JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def check_arguments(schema: dict[str, Any], args: dict[str, Any]) -> list[str]:
    """What is wrong with `args` for a tool's parameters schema (top-level checks)."""
    props = schema.get("properties", {})
    problems = [
        f"{name}: required argument is missing"
        for name in schema.get("required", [])
        if name not in args
    ]
    for name, value in args.items():
        if name not in props:
            problems.append(f"{name}: unexpected argument")
        elif not _fits(props[name], value):
            problems.append(f"{name}: {value!r:.60} does not fit {json.dumps(props[name])}")
    return problems


def _fits(schema: dict[str, Any], value: Any) -> bool:
    if "anyOf" in schema:
        return any(_fits(s, value) for s in schema["anyOf"])
    if "enum" in schema:
        return value in schema["enum"]
    kind = schema.get("type")
    if kind is None:
        return True
    if isinstance(value, bool) and kind in ("integer", "number"):
        return False  # JSON true is not a number
    return isinstance(value, JSON_TYPES.get(kind, (object,)))


class ToolError(Exception):
    """Raise from a tool to report a failure the model should act on; the message is all it
    sees (no traceback)."""


class SchemaTool(Tool):
    """A tool whose parameters come as a JSON schema (a tool a model wrote, an MCP server's)
    rather than from a Python function's signature. Subclasses implement `invoke`, and set
    `takes_context` if they use the call's context."""

    def __init__(self, name: str, description: str, parameters: dict[str, Any]):
        # Not Tool.__init__: there is no Python function to read.
        self.name = name
        self.description = description
        self.timeout_s = None
        self.is_async = True
        self.schema = ToolSchema(name, description, parameters)
        self.context_param = None

    def parse_arguments(self, raw: str) -> dict[str, Any]:
        args = load_arguments(self.name, raw)
        problems = check_arguments(self.schema.parameters, args)
        if problems:
            expected = json.dumps(self.schema.parameters.get("properties", {}))[:1000]
            raise ToolCallError(
                "bad_arguments",
                f"Invalid arguments for {self.name}: "
                + "; ".join(problems)
                + f". Expected parameters: {expected}",
            )
        return args

    async def invoke(self, args: dict[str, Any], ctx: RunContext | None = None) -> Any:
        raise NotImplementedError


class ToolCallError(Exception):
    def __init__(self, kind: ErrorKind, message: str):
        super().__init__(message)
        self.kind = kind


@overload
def tool(fn: Callable[..., Any], /) -> Tool: ...
@overload
def tool(
    *, name: str | None = None, description: str | None = None, timeout_s: float | None = None
) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout_s: float | None = None,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a tool from a typed function; its docstring is the description (an `Args:` section
    describes the parameters)."""
    if fn is not None:
        return Tool(fn)
    return lambda f: Tool(f, name=name, description=description, timeout_s=timeout_s)


class Toolset:
    """The tools one agent may call, by name, with their schemas computed once."""

    def __init__(self, tools: Iterable[Tool | Callable[..., Any]] = ()):
        self._tools: dict[str, Tool] = {}
        for t in tools:
            self.add(t)

    def add(self, t: Tool | Callable[..., Any]) -> Tool:
        t = t if isinstance(t, Tool) else Tool(t)
        if t.name in self._tools and self._tools[t.name] is not t:
            raise ValueError(f"two tools are named {t.name!r}")
        self._tools[t.name] = t
        return t

    def replace(self, t: Tool) -> None:
        self._tools[t.name] = t

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    @property
    def names(self) -> list[str]:
        return list(self._tools)

    @property
    def schemas(self) -> list[ToolSchema]:
        return [t.schema for t in self._tools.values()]

    async def call(
        self, call: ToolCall, timeout_s: float | None = None, ctx: RunContext | None = None
    ) -> ToolOutcome:
        """Run one call from the model, in the context `ctx` (needed by tools that take it);
        never raises (except cancellation)."""
        started = time.perf_counter()
        t = self._tools.get(call.name)
        if t is None:
            which = f"Unknown tool {call.name!r}" if call.name else "The call names no tool"
            return ToolOutcome(
                f"{which}. Available tools: {', '.join(self._tools)}.", error="unknown_tool"
            )
        try:
            args = t.parse_arguments(call.arguments)
        except ToolCallError as exc:
            return ToolOutcome(str(exc), error=exc.kind)
        limit = t.timeout_s if t.timeout_s is not None else timeout_s
        timer: asyncio.Timeout | None = None
        try:
            if limit is None:
                value = await t.invoke(args, ctx)
            else:
                # The timer is armed only if the tool actually waits: most calls never do.
                async with asyncio.timeout(None) as timer:
                    value = await on_first_wait(
                        t.invoke(args, ctx),
                        lambda: timer.reschedule(asyncio.get_running_loop().time() + limit),
                    )
        except TimeoutError as exc:
            if timer is None or not timer.expired():  # the tool's own timeout (a socket's)
                return ToolOutcome(
                    _describe_exception(t.name, exc),
                    error="exception",
                    duration_s=time.perf_counter() - started,
                )
            return ToolOutcome(
                f"{t.name} timed out after {limit:g} s and was abandoned.",
                error="timeout",
                duration_s=time.perf_counter() - started,
            )
        except ToolError as exc:
            return ToolOutcome(str(exc), error="failed", duration_s=time.perf_counter() - started)
        except (Exception, SystemExit) as exc:  # a tool's bug must not end the run
            return ToolOutcome(
                _describe_exception(t.name, exc),
                error="exception",
                duration_s=time.perf_counter() - started,
            )
        return ToolOutcome(render(value), value=value, duration_s=time.perf_counter() - started)


def render(value: Any) -> str:
    """A tool's return value as the text the model reads."""
    if isinstance(value, str):
        return value
    if value is None:
        return "(no output)"
    if isinstance(value, pydantic.BaseModel):
        return value.model_dump_json()
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(value)


def truncate(text: str, limit: int, note: str = "") -> str:
    """Keep the head and the tail of a long output: errors tend to be at the end."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    tail = limit - head
    cut = len(text) - head - tail
    return f"{text[:head]}\n[... {cut} characters cut{note} ...]\n{text[-tail:]}"


# --- schema building --------------------------------------------------------------------------


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into its summary and its `Args:` entries."""
    summary: list[str] = []
    args: dict[str, str] = {}
    section, current, arg_indent = "summary", "", -1
    for line in doc.splitlines():
        stripped = line.strip()
        if re.fullmatch(r"(Args|Arguments|Parameters):", stripped):
            section = "args"
        elif re.fullmatch(r"[A-Z][a-z]+:", stripped):  # Returns:, Raises:, Examples: ...
            section = "other"
        elif section == "summary":
            summary.append(line)
        elif section == "args" and stripped:
            indent = len(line) - len(line.lstrip())
            m = re.match(r"(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)", stripped)
            if m and (arg_indent < 0 or indent <= arg_indent):
                arg_indent, current = indent, m.group(1)
                args[current] = m.group(2)
            elif current:  # a continuation line of the current argument
                args[current] = f"{args[current]} {stripped}".strip()
    return "\n".join(summary).strip(), args


def _type_hints(fn: Callable[..., Any], name: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn, include_extras=True)
    except Exception as exc:  # a forward reference that does not resolve
        raise TypeError(
            f"tool {name!r}: cannot resolve its type hints: {exc} (a RunContext "
            "parameter needs RunContext imported at run time, not only for type "
            "checking)"
        ) from exc


def _arguments_model(
    fn: Callable[..., Any], name: str, hints: dict[str, Any], arg_docs: dict[str, str]
) -> type[pydantic.BaseModel]:
    fields: dict[str, Any] = {}
    for pname, param in inspect.signature(fn).parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise TypeError(f"tool {name!r}: *args and **kwargs cannot be described to a model")
        if pname not in hints:
            raise TypeError(f"tool {name!r}: parameter {pname!r} needs a type annotation")
        if hints[pname] is RunContext:
            continue  # the call's context, not the model's to give
        default = ... if param.default is param.empty else param.default
        fields[pname] = (hints[pname], pydantic.Field(default, description=arg_docs.get(pname)))
    return pydantic.create_model(
        f"{name}_arguments", __config__=pydantic.ConfigDict(extra="forbid"), **fields
    )


def _clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop pydantic's titles: they cost tokens and tell the model nothing the names don't."""
    if isinstance(schema, dict):
        return {
            k: _clean_schema(v)
            for k, v in schema.items()
            if not (k == "title" and isinstance(v, str))
        }
    if isinstance(schema, list):
        return [_clean_schema(v) for v in schema]
    return schema


def _describe_validation(t: Tool, exc: pydantic.ValidationError) -> str:
    problems = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "(arguments)"
        if err["type"] == "extra_forbidden":
            problems.append(f"{where}: unexpected argument")
        elif err["type"] == "missing":
            problems.append(f"{where}: required argument is missing")
        else:
            problems.append(f"{where}: {err['msg']} (got {err.get('input')!r:.100})")
    expected = json.dumps(t.schema.parameters.get("properties", {}))
    return (
        f"Invalid arguments for {t.name}: "
        + "; ".join(problems)
        + f". Expected parameters: {expected[:1000]}"
    )


def _describe_exception(name: str, exc: BaseException) -> str:
    """The error and the innermost frames, which say where it broke. Files are named from the
    import root they were found under (`opensage/kits/files.py`, `json/decoder.py`): where
    this machine keeps its Python is no help to the model, and nobody else's business."""
    frames = traceback.extract_tb(exc.__traceback__)[-4:]
    where = "".join(
        f'  File "{_importable(f.filename)}", line {f.lineno}, in {f.name}\n'
        + (f"    {f.line.strip()}\n" if f.line else "")
        for f in frames
    )
    return f"{name} raised {type(exc).__name__}: {exc}\n{where[-2000:]}".rstrip()


def _importable(filename: str) -> str:
    """`filename` relative to the deepest `sys.path` folder holding it, else its last parts."""
    roots = sorted(
        (p for p in sys.path if p and filename.startswith(p.rstrip("/") + "/")),
        key=len,
        reverse=True,
    )
    if roots:
        return filename[len(roots[0].rstrip("/")) + 1 :]
    return "/".join(filename.split("/")[-2:])
