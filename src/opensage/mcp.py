"""MCP in and out, through the official `mcp` SDK (the optional `mcp` extra).

In: the tools of MCP servers (a command spoken to over stdio, or a streamable-HTTP URL) become
tools of an agent, their arguments checked against the server's schema and their errors returned
to the model like any tool's. Out: `opensage mcp serve` offers the tool library (the tools models
wrote) to any MCP client, each call running in the sandbox.
"""

from __future__ import annotations

import json
import re
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opensage.core.context import RunContext
from opensage.core.tools import SchemaTool, Tool, ToolError, check_arguments
from opensage.errors import ConfigError

INSTALL_HINT = "install the MCP extra: pip install 'opensage[mcp]'"


@dataclass(frozen=True)
class McpServer:
    """Where an MCP server is: a `command` (with `args`, `env`) or a streamable-HTTP `url`."""

    name: str
    command: str | None = None
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    url: str | None = None

    @classmethod
    def from_table(cls, name: str, table: dict[str, Any]) -> McpServer:
        unknown = set(table) - {"command", "args", "env", "url"}
        if unknown or ("command" in table) == ("url" in table):
            raise ConfigError(
                f"[mcp.servers.{name}] needs either command (with args, env) or "
                f"url{f'; unknown keys: {sorted(unknown)}' if unknown else ''}"
            )
        return cls(name=name, **table)


class McpTool(SchemaTool):
    """A tool of an MCP server, called over the server's connection."""

    def __init__(self, server: str, listed: Any, client: Any, name: str):
        super().__init__(
            name,
            listed.description or f"{listed.name} (from MCP server {server})",
            dict(listed.input_schema),
        )
        self.remote_name = listed.name
        self.client = client

    async def invoke(self, args: dict[str, Any], ctx: RunContext | None = None) -> Any:
        try:
            result = await self.client.call_tool(self.remote_name, args)
        except Exception as exc:  # the connection or the protocol failed
            raise ToolError(f"the MCP server failed: {type(exc).__name__}: {exc}") from None
        text = "\n".join(getattr(c, "text", "") or f"[{c.type} content]" for c in result.content)
        if result.is_error:
            raise ToolError(text or f"{self.name} failed")
        # The text is what the server meant for people and models; structured content (which
        # the SDK also fills in, e.g. {"result": ...}) only when there is no text.
        return (
            text if text.strip() or result.structured_content is None else result.structured_content
        )


async def connect(servers: list[McpServer], stack: AsyncExitStack, taken: set[str]) -> list[Tool]:
    """Open each server (closed with `stack`) and return its tools. A name already `taken` by
    another tool is prefixed with the server's name."""
    if not servers:
        return []  # the SDK is large (tens of MB): only load it for runs that use it
    try:
        from mcp import Client, StdioServerParameters
    except ImportError:
        raise ConfigError(
            f"MCP servers are configured but the SDK is missing; {INSTALL_HINT}"
        ) from None
    tools: list[Tool] = []
    for server in servers:
        target: Any = server.url or StdioServerParameters(
            command=str(server.command), args=server.args, env=server.env or None
        )
        try:
            client = await stack.enter_async_context(Client(target))
            listed = await client.list_tools()
        except Exception as exc:
            raise ConfigError(f"cannot use MCP server {server.name!r}: {exc}") from exc
        for item in listed.tools:
            name = _tool_name(item.name, server.name, taken)
            taken.add(name)
            tools.append(McpTool(server.name, item, client, name))
    return tools


async def serve_library(library_path: Path, workdir: Path, open_sandbox: Any, limits: Any) -> None:
    """Serve the tool library at `library_path` over stdio until the client goes away."""
    try:
        import mcp_types as types
        from mcp.server.lowlevel import Server
        from mcp.server.stdio import stdio_server
    except ImportError:
        raise ConfigError(f"`opensage mcp serve` needs the MCP SDK; {INSTALL_HINT}") from None
    from opensage.synthesis.library import ToolLibrary
    from opensage.synthesis.runner import ToolRunner

    library = ToolLibrary(library_path)
    runner = ToolRunner(open_sandbox, workdir, limits)

    async def list_tools(ctx: Any, params: Any) -> Any:
        return types.ListToolsResult(
            tools=[
                types.Tool(name=r.name, description=r.description, input_schema=r.schema)
                for r in library.search("", limit=1000)
            ]
        )

    async def call_tool(ctx: Any, params: Any) -> Any:
        record = library.get(params.name)
        if record is None:
            return _result(types, f"no tool named {params.name!r}", error=True)
        args = params.arguments or {}
        problems = check_arguments(record.schema, args)
        if problems:
            return _result(types, "invalid arguments: " + "; ".join(problems), error=True)
        ran = await runner.call(record.code, args)
        library.record_call(record.name, record.version, ran.ok)
        if not ran.ok:
            return _result(types, str(ran.data.get("error", "failed")), error=True)
        value = ran.data["value"]
        return _result(types, value if isinstance(value, str) else json.dumps(value))

    server = Server("opensage", on_list_tools=list_tools, on_call_tool=call_tool)

    async def run() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    try:
        await run()
    finally:
        library.close()


def _tool_name(remote: str, server: str, taken: set[str]) -> str:
    """A name the model APIs accept (letters, digits, _ and -; at most 64), unique in the run;
    the call still uses the server's own name."""
    clean = re.sub(r"[^A-Za-z0-9_-]", "_", remote)[:64] or "tool"
    if clean in taken:
        clean = f"{re.sub(r'[^A-Za-z0-9_-]', '_', server)}_{clean}"[:64]
    base, n = clean, 2
    while clean in taken:
        clean = f"{base[:60]}_{n}"
        n += 1
    return clean


def _result(types: Any, text: str, *, error: bool = False) -> Any:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=error)
