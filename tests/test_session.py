"""What a run holds open is closed, whatever fails."""

import pytest

import opensage.runtime as runtime
from opensage import Agent
from opensage.mcp import McpServer
from opensage.models import ScriptedModel
from opensage.models.base import ConfigError


def test_a_failing_cleanup_does_not_skip_the_others(monkeypatch, tmp_path, caplog):
    ran = []

    def kit(ctx):
        async def first():
            ran.append("first")

        async def broken():
            raise RuntimeError("consolidation failed")

        ctx.cleanups.extend([first, broken])
        return []

    monkeypatch.setitem(runtime.KITS, "flaky", kit)
    result = Agent("a", model=ScriptedModel(["done"]), kits=["flaky"]).run_sync("x",
                                                                             workdir=tmp_path)
    assert result.ok and ran == ["first"]
    assert "a cleanup at the end of the run failed" in caplog.text


def test_a_failed_setup_closes_what_it_opened(monkeypatch, tmp_path):
    closed = []

    def kit(ctx):
        async def close():
            closed.append(True)

        ctx.cleanups.append(close)
        return []

    monkeypatch.setitem(runtime.KITS, "holder", kit)
    broken = McpServer("broken", command="/nonexistent/server")
    agent = Agent("a", model=ScriptedModel(["done"]), kits=["holder"], mcp_servers=[broken])
    with pytest.raises(ConfigError, match="cannot use MCP server 'broken'"):
        agent.run_sync("x", workdir=tmp_path)
    assert closed == [True]
