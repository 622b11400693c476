"""A model-written tool as the agent sees it: a schema, and a call that runs in the sandbox."""

from __future__ import annotations

import json
from typing import Any

from opensage.core.tools import Tool, ToolCallError, ToolError, check_arguments, load_arguments
from opensage.models.base import ToolSchema
from opensage.synthesis.library import ToolLibrary, ToolRecord
from opensage.synthesis.runner import ToolRunner


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
