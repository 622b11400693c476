"""What a run holds open is closed, whatever fails."""

from contextlib import asynccontextmanager

import pytest

from opensage import Agent
from opensage.errors import ConfigError
from opensage.kits import Kit
from opensage.mcp import McpServer
from opensage.models import ScriptedModel


class Holder(Kit):
    """A kit that notes when its session ends, and may fail to end."""

    def __init__(self, name, ended, fail=False):
        self.name = name
        self.ended = ended
        self.fail = fail

    @asynccontextmanager
    async def session(self, ctx):
        yield []
        self.ended.append(self.name)
        if self.fail:
            raise RuntimeError("consolidation failed")


def test_a_kit_failing_at_the_end_does_not_skip_the_others(tmp_path, caplog):
    ended = []
    kits = [Holder("first", ended), Holder("broken", ended, fail=True)]
    result = Agent("a", model=ScriptedModel(["done"]), kits=kits).run_sync("x", workdir=tmp_path)
    assert result.ok and ended == ["broken", "first"]  # in reverse, the broken one included
    assert "a kit failed at the end of the run" in caplog.text


def test_a_failed_setup_closes_what_it_opened(tmp_path):
    ended = []
    broken = McpServer("broken", command="/nonexistent/server")
    agent = Agent(
        "a", model=ScriptedModel(["done"]), kits=[Holder("holder", ended)], mcp_servers=[broken]
    )
    with pytest.raises(ConfigError, match="cannot use MCP server 'broken'"):
        agent.run_sync("x", workdir=tmp_path)
    assert ended == ["holder"]
