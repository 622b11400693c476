"""A real MCP server, written with the SDK, for the tests: run it over stdio, or with
`--http PORT` over streamable HTTP on 127.0.0.1."""

import sys

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("weather")


@server.tool()
def forecast(city: str, days: int = 1) -> str:
    """The weather in a city for the next days."""
    return f"{days} day(s) of rain in {city}"


@server.tool()
def broken_station(city: str) -> str:
    """Always fails (as a server reports a failure the caller should see)."""
    raise ToolError(f"station {city} is offline")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--http":
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run()
