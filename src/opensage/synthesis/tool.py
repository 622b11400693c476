"""A model-written tool as the agent sees it: a schema, and a call that runs in the sandbox, in
the work dir of the call (an ensemble member's copy, for the member's calls)."""

from __future__ import annotations

from typing import Any

from opensage.core.context import RunContext
from opensage.core.tools import SchemaTool, ToolError
from opensage.synthesis.library import ToolLibrary, ToolRecord
from opensage.synthesis.runner import ToolRunner


def runner_for(ctx: RunContext) -> ToolRunner:
    """A runner in the run's sandbox, on the context's work dir."""
    return ToolRunner(ctx.sandbox, ctx.workdir, ctx.config.sandbox_limits)


class SynthesizedTool(SchemaTool):
    takes_context = True

    def __init__(self, record: ToolRecord, library: ToolLibrary):
        super().__init__(record.name, record.description, record.schema)
        self.record = record
        self.library = library

    async def invoke(self, args: dict[str, Any], ctx: RunContext | None = None) -> Any:
        if ctx is None:
            raise RuntimeError(f"{self.name} runs in a run's sandbox: call it with its context")
        result = await runner_for(ctx).call(self.record.code, args)
        self.library.record_call(self.name, self.record.version, result.ok)
        if not result.ok:
            raise ToolError(f"{self.name} failed: {result.data.get('error', '')}".rstrip())
        value = result.data["value"]
        printed = result.output.strip()
        return {"result": value, "printed": printed[-2000:]} if printed else value
