"""A model-written tool as the agent sees it: a schema, and a call that runs in the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from opensage.core.tools import SchemaTool, ToolError
from opensage.synthesis.library import ToolLibrary, ToolRecord
from opensage.synthesis.runner import ToolRunner


class SynthesizedTool(SchemaTool):
    def __init__(self, record: ToolRecord, runner: ToolRunner, library: ToolLibrary):
        super().__init__(record.name, record.description, record.schema)
        self.record = record
        self.runner = runner
        self.library = library

    def for_workdir(self, workdir: Path) -> SynthesizedTool:
        runner = ToolRunner(self.runner.open_sandbox, workdir, self.runner.limits,
                            self.runner.timeout_s)
        return SynthesizedTool(self.record, runner, self.library)

    async def invoke(self, args: dict[str, Any]) -> Any:
        result = await self.runner.call(self.record.code, args)
        self.library.record_call(self.name, self.record.version, result.ok)
        if not result.ok:
            raise ToolError(f"{self.name} failed: {result.data.get('error', '')}".rstrip())
        value = result.data["value"]
        printed = result.output.strip()
        return {"result": value, "printed": printed[-2000:]} if printed else value
