"""MCP in (an SDK-written server's tools used by an agent) and out (`opensage mcp serve`
driven by the SDK's client)."""

import asyncio
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from opensage import Agent
from opensage.core.events import EventLog
from opensage.mcp import McpServer
from opensage.synthesis.library import ToolLibrary, ToolRecord
from opensage.synthesis.signature import parse_tool

from ..topology.conftest import call, team_model

SERVER = str(Path(__file__).with_name("weather_server.py"))


def results(home, run_id):
    log = EventLog.open(home / "events.db")
    messages = log.messages_by_event(run_id)
    return [(e.data, messages[e.id].content) for e in log.events(run_id, ("tool_result",))]


def weather_run(home, tmp_path, server):
    model = team_model(
        {
            "ROOT": [
                call("forecast", city="Bergen", days=3),
                call("broken_station", city="Oslo"),
                call("forecast", city=7),
                lambda m: call("finish", answer="done"),
            ]
        }
    )
    result = Agent("root", "ROOT", model=model, mcp_servers=[server]).run_sync(
        "weather?", workdir=tmp_path
    )
    assert result.ok
    (ok, ok_text), (failed, failed_text), (bad, bad_text), _ = results(home, result.run_id)
    assert ok["ok"] and ok_text == "3 day(s) of rain in Bergen"
    assert failed["error"] == "failed" and "station Oslo is offline" in failed_text
    assert bad["error"] == "bad_arguments" and "city: 7 does not fit" in bad_text


def test_an_agent_uses_the_tools_of_an_mcp_server_over_stdio(home, tmp_path):
    weather_run(home, tmp_path, McpServer("weather", command=sys.executable, args=[SERVER]))


@pytest.mark.slow
def test_an_agent_uses_the_tools_of_an_mcp_server_over_streamable_http(home, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, SERVER, "--http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        weather_run(home, tmp_path, McpServer("weather", url=f"http://127.0.0.1:{port}/mcp"))
    finally:
        proc.kill()


def test_mcp_servers_come_from_the_config(home, tmp_path):
    home.mkdir(exist_ok=True)  # the user's own file: a project's may not start programs
    (home / "opensage.toml").write_text(
        f'[mcp.servers.weather]\ncommand = "{sys.executable}"\nargs = ["{SERVER}"]\n'
    )
    model = team_model(
        {"ROOT": [call("forecast", city="Tromsø"), lambda m: call("finish", answer=m[-1].content)]}
    )
    result = Agent("root", "ROOT", model=model).run_sync("weather?", workdir=tmp_path)
    assert result.answer == "1 day(s) of rain in Tromsø"


def test_opensage_mcp_serve_offers_the_tool_library(home, tmp_path):
    code = "def main(text: str) -> int:\n    '''Count the words.'''\n    return len(text.split())\n"
    schema, _, _ = parse_tool(code)
    ToolLibrary(home / "tools.db").add(
        ToolRecord(name="word_count", description="count words", code=code, schema=schema)
    )
    opensage = Path(sys.executable).parent / "opensage"

    async def session():
        params = StdioServerParameters(
            command=str(opensage),
            args=["mcp", "serve", "--workdir", str(tmp_path)],
            env={"OPENSAGE_HOME": str(home), "PATH": "/usr/bin:/bin"},
        )
        async with Client(params) as client:
            listed = await client.list_tools()
            counted = await client.call_tool("word_count", {"text": "one two three"})
            wrong = await client.call_tool("word_count", {"text": 3})
            missing = await client.call_tool("nope", {})
            return listed, counted, wrong, missing

    listed, counted, wrong, missing = asyncio.run(session())
    assert [(t.name, t.description) for t in listed.tools] == [("word_count", "count words")]
    assert listed.tools[0].input_schema["required"] == ["text"]
    assert not counted.is_error and counted.content[0].text == "3"
    assert wrong.is_error and "does not fit" in wrong.content[0].text
    assert missing.is_error and "no tool named 'nope'" in missing.content[0].text
    assert ToolLibrary(home / "tools.db").get("word_count").calls == 1
    assert json.loads(json.dumps(listed.tools[0].input_schema))  # plain JSON on the wire


def test_mcp_tool_names_are_made_acceptable_and_unique():
    from opensage.mcp import _tool_name

    taken = {"read", "files_read"}
    assert _tool_name("files.read", "fs", set()) == "files_read"
    assert _tool_name("read", "my.fs", set(taken)) == "my_fs_read"
    assert _tool_name("files.read", "fs", set(taken)) == "fs_files_read"
    assert len(_tool_name("x" * 100, "s", set())) == 64
