"""The synthesis kit: the model writes tools, which are checked and tested in the sandbox before
they are trusted, and kept in a library for later runs.

    create_tool(name, description, code, tests=None, language="python")
                                                        code defines `def main(...)`, or is
                                                        a bash script (see bash.py)
    search_tools(query)                                 found tools become callable
    list_tools()
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

from opensage.core.context import RunContext
from opensage.core.tools import Tool, ToolError
from opensage.kits.base import Kit
from opensage.synthesis.bash import bash_tool_source
from opensage.synthesis.library import ToolLibrary, ToolRecord
from opensage.synthesis.runner import HarnessError, ToolRunner
from opensage.synthesis.signature import SignatureError, parse_tool
from opensage.synthesis.tool import SynthesizedTool, runner_for

__all__ = ["SynthesisKit", "SynthesizedTool", "ToolLibrary", "ToolRunner"]

NAME = re.compile(r"[a-z][a-z0-9_]{0,47}")


class SynthesisKit(Kit):
    name = "synthesis"
    # Written tools run in the work dir of the call that uses them: an ensemble member's copy
    # for its calls. And they give the agent tools as it runs.
    acts_on_workdir = False
    adds_tools = True

    @asynccontextmanager
    async def session(self, ctx: RunContext) -> AsyncIterator[list[Tool]]:
        library = ToolLibrary(ctx.config.tools_path)
        try:
            yield synthesis_tools(library)
        finally:
            library.close()


def reject(ctx: RunContext, name: str, stage: str, message: str) -> ToolError:
    """A refused tool: recorded, and the error the model sees."""
    ctx.emit("tool_rejected", {"name": name, "stage": stage, "message": message[:4000]})
    return ToolError(message)


def synthesis_tools(library: ToolLibrary) -> list[Tool]:
    async def create_tool(
        name: str,
        description: str,
        code: str,
        tests: list[dict[str, Any]] | None = None,
        language: Literal["python", "bash"] = "python",
        *,
        ctx: RunContext,
    ) -> str:
        """Write a new tool. `code` is Python defining `def main(...)` with annotated parameters
        (str, int, float, bool, list[...], dict[str, ...], Literal[...], X | None) that returns
        JSON-able data; its docstring describes it. Or, with language="bash", a bash script
        declaring its parameters in lines like `# param path: str - the file` (types str, int,
        float, bool; `= DEFAULT` optional), which it reads as $PATH-style variables (the name
        in capitals); what it prints is the result, a non-zero exit an error. Before the tool
        is kept, its imports must exist in the sandbox and every test must pass there. Then you
        can call it by name.

        Args:
            name: snake_case, 1-48 characters.
            description: what it does, for whoever looks for a tool later.
            code: the Python source, or the bash script.
            tests: cases like {"args": {...}, "expect": <result>} or {"args": {...}, "check":
                "<Python expression on result>"}.
            language: python or bash.
        """
        loop, _ = ctx.in_call()
        runner = runner_for(ctx)  # in the caller's work dir: an ensemble member's copy, for it
        tests = tests or []
        if not NAME.fullmatch(name):
            raise reject(
                ctx,
                name,
                "name",
                f"tool name {name!r}: use snake_case, a letter first, at most 48 characters",
            )
        existing = loop.config.tools.get(name)
        if existing is not None and not isinstance(existing, SynthesizedTool):
            raise reject(ctx, name, "name", f"{name!r} is a built-in tool; choose another name")
        bad = [
            t for t in tests if not isinstance(t, dict) or not isinstance(t.get("args", {}), dict)
        ]
        if bad:
            raise reject(
                ctx,
                name,
                "tests",
                f"each test must be an object with an 'args' "
                f"object (and 'expect' or 'check'): {bad[0]!r}",
            )
        try:
            if language == "bash":
                code = bash_tool_source(code)
            schema, summary, modules = parse_tool(code)
        except SignatureError as exc:
            raise reject(ctx, name, "signature", str(exc)) from None
        try:
            missing = await runner.missing_modules(modules)
        except HarnessError as exc:
            raise reject(ctx, name, "imports", str(exc)) from None
        if missing:
            raise reject(
                ctx,
                name,
                "imports",
                "these modules are not installed in the "
                f"sandbox: {', '.join(missing)}. Nothing is downloaded at run time: "
                "use the standard library or what is installed.",
            )
        if tests:
            ran = await runner.test(code, tests)
            report = ran.data.get("tests")
            if report is None:
                raise reject(
                    ctx, name, "tests", f"the tests could not run: {ran.data.get('error', '')}"
                )
            failed = [r for r in report if not r["passed"]]
            if failed:
                lines = [f"- args {json.dumps(r['args'])}: {r['error']}" for r in failed]
                printed = f"\nprinted:\n{ran.output.strip()[-1500:]}" if ran.output.strip() else ""
                raise reject(
                    ctx,
                    name,
                    "tests",
                    f"{len(failed)} of {len(report)} tests "
                    "failed; fix the code and create the tool again:\n"
                    + "\n".join(lines)
                    + printed,
                )
        record = library.add(
            ToolRecord(
                name=name,
                description=description or summary,
                code=code,
                schema=schema,
                tests=tests,
                created_run=ctx.run_id,
                created_by=loop.config.name,
            )
        )
        loop.add_tool(SynthesizedTool(record, library))
        ctx.emit(
            "tool_created",
            {
                "name": name,
                "version": record.version,
                "tests": len(tests),
                "parameters": schema["properties"],
            },
        )
        return (
            f"tool {name!r} version {record.version} created ({len(tests)} tests passed); "
            "you can call it now"
        )

    async def search_tools(query: str, *, ctx: RunContext) -> str:
        """Find tools written in this or earlier runs; the ones found become callable by you.

        Args:
            query: words describing what the tool should do.
        """
        loop, _ = ctx.in_call()
        found = library.search(query)
        for record in found:
            existing = loop.config.tools.get(record.name)
            if existing is None or isinstance(existing, SynthesizedTool):  # never a built-in
                loop.add_tool(SynthesizedTool(record, library))
        if not found:
            return f"no tool matches {query!r}; write one with create_tool"
        return json.dumps([r.summary() for r in found], indent=1)

    async def list_tools() -> str:
        """List the tools written so far (in this run and earlier ones)."""
        return json.dumps([r.summary() for r in library.search("", limit=200)], indent=1)

    return [Tool(create_tool), Tool(search_tools), Tool(list_tools)]
