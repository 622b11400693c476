"""A model-written tool as the agent sees it: a schema, and a call that runs in the sandbox."""

from __future__ import annotations

import json
from typing import Any

from opensage.core.tools import Tool, ToolCallError, ToolError, load_arguments
from opensage.models.base import ToolSchema
from opensage.synthesis.library import ToolLibrary, ToolRecord
from opensage.synthesis.runner import ToolRunner

JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "array": (list,), "object": (dict,), "null": (type(None),)}


class SynthesizedTool(Tool):
    def __init__(self, record: ToolRecord, runner: ToolRunner, library: ToolLibrary):
        # Not Tool.__init__: there is no Python function here to read, only a recorded schema.
        self.name = record.name
        self.description = record.description
        self.timeout_s = None
        self.is_async = True
        self.schema = ToolSchema(record.name, record.description, record.schema)
        self.record = record
        self.runner = runner
        self.library = library

    def parse_arguments(self, raw: str) -> dict[str, Any]:
        args = load_arguments(self.name, raw)
        problems = check_arguments(self.record.schema, args)
        if problems:
            raise ToolCallError("bad_arguments", f"Invalid arguments for {self.name}: "
                                + "; ".join(problems) + ". Expected parameters: "
                                + json.dumps(self.record.schema.get("properties", {}))[:1000])
        return args

    async def invoke(self, args: dict[str, Any]) -> Any:
        result = await self.runner.call(self.record.code, args)
        self.library.record_call(self.name, self.record.version, result.ok)
        if not result.ok:
            raise ToolError(f"{self.name} failed: {result.data.get('error', '')}".rstrip())
        value = result.data["value"]
        printed = result.output.strip()
        return {"result": value, "printed": printed[-2000:]} if printed else value


def check_arguments(schema: dict[str, Any], args: dict[str, Any]) -> list[str]:
    """What is wrong with `args` for a tool's parameters schema (top-level checks)."""
    props = schema.get("properties", {})
    problems = [f"{name}: required argument is missing"
                for name in schema.get("required", []) if name not in args]
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
