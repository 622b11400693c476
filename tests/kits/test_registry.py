"""Kits other packages define: registered by name or found through an entry point, given to an
agent by name or as an object, recorded by name, and their tools given the run's context."""

import asyncio
import json
import textwrap

import pytest

import opensage.kits
from opensage import Agent, Kit, RunContext, Tool, register_kit
from opensage.core.events import EventLog
from opensage.errors import ConfigError
from opensage.kits import kit_names, make_kit
from opensage.models import ScriptedModel, tool_call

from ..contexts import run_context


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    """Each test registers into a registry of its own."""
    monkeypatch.setattr(opensage.kits, "_registered", {})


class Tally(Kit):
    """Counts in a file of the work dir; its tool reports who called it, under which event."""

    name = "tally"

    def tools(self, ctx: RunContext) -> list[Tool]:
        counter = ctx.workdir / "tally.txt"

        def tally(by: int, *, ctx: RunContext) -> str:
            """Add to the tally.

            Args:
                by: how much.
            """
            total = int(counter.read_text()) + by if counter.exists() else by
            counter.write_text(str(total))
            ctx.emit("tallied", {"total": total})
            return json.dumps({"total": total, "agent": ctx.agent.config.name, "event": ctx.event})

        return [Tool(tally)]


def test_a_registered_kit_is_used_by_name_and_recorded_by_name(home, tmp_path):
    register_kit("tally", Tally)
    model = ScriptedModel(
        [
            tool_call("tally", by=2),
            tool_call("tally", by=3),
            lambda m, t: tool_call("finish", answer=m[-1].content),
        ]
    )
    result = Agent("counter", model=model, kits=["tally"]).run_sync("count", workdir=tmp_path)
    said = json.loads(result.answer)
    assert said["total"] == 5 and (tmp_path / "tally.txt").read_text() == "5"
    log = EventLog.open(home / "events.db")
    calls = [e.id for e in log.events(result.run_id, ("tool_call",))]
    assert (said["agent"], said["event"]) == ("counter", calls[1])  # the call's own context
    assert [e.parent for e in log.events(result.run_id, ("tallied",))] == calls[:2]
    start = log.events(result.run_id, ("run_started",))[0]
    assert start.data["agent"]["kits"] == ["tally"]
    assert Agent.from_record(start.data).kits == ["tally"]


def test_a_tools_context_parameter_is_not_the_models(home, tmp_path):
    (tool,) = Tally().tools(run_context(tmp_path, home))
    assert tool.takes_context and tool.context_param == "ctx"
    assert tool.schema.parameters["properties"] == {
        "by": {"type": "integer", "description": "how much."}
    }
    assert tool.schema.parameters["required"] == ["by"]


def test_a_kit_from_an_installed_packages_entry_point_is_used_by_name(home, tmp_path, monkeypatch):
    site = tmp_path / "site"
    package = site / "stamp_kit_demo"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(
        textwrap.dedent('''
        from opensage import Kit, Tool


        class StampKit(Kit):
            name = "stamp_demo"

            def tools(self, ctx):
                target = ctx.workdir / "stamp.txt"

                def stamp(text: str) -> str:
                    """Stamp the work dir."""
                    target.write_text(text)
                    return "stamped"

                return [Tool(stamp)]
    ''')
    )
    info = site / "stamp_kit_demo-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: stamp-kit-demo\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[opensage.kits]\nstamp_demo = stamp_kit_demo:StampKit\n"
    )
    assert "stamp_demo" not in kit_names()
    monkeypatch.syspath_prepend(str(site))  # as installing the package would
    assert "stamp_demo" in kit_names()
    model = ScriptedModel(
        [tool_call("stamp", text="from a plugin"), tool_call("finish", answer="done")]
    )
    result = Agent("a", model=model, kits=["stamp_demo"]).run_sync("go", workdir=tmp_path)
    assert result.ok and (tmp_path / "stamp.txt").read_text() == "from a plugin"
    assert type(make_kit("stamp_demo")).__module__ == "stamp_kit_demo"


def test_unknown_duplicate_and_taken_kit_names_are_refused(tmp_path):
    with pytest.raises(
        ConfigError,
        match=r"unknown kit 'nope'; known kits: files, memory, "
        r"security, shell, swe, synthesis, topology\. A kit "
        r"of another",
    ):
        Agent(model=ScriptedModel([]), kits=["nope"]).run_sync("x", workdir=tmp_path)
    with pytest.raises(ConfigError, match="the kit 'tally' is given twice"):
        Agent(model=ScriptedModel([]), kits=[Tally(), Tally()]).run_sync("x", workdir=tmp_path)
    with pytest.raises(ValueError, match="a kit named 'files' is already registered"):
        register_kit("files", Tally)
    register_kit("broken", lambda: "not a kit")
    with pytest.raises(ConfigError, match="made a str, not a Kit"):
        make_kit("broken")


class Slow(Kit):
    name = "slow"

    def tools(self, ctx: RunContext) -> list[Tool]:
        async def wait() -> str:
            """Wait a long time."""
            await asyncio.sleep(60)
            return "waited"

        return [Tool(wait)]


def test_a_run_with_a_kit_object_resumes_from_python_with_the_same_agent(home, tmp_path):
    agent = Agent("a", model=ScriptedModel([tool_call("wait")]), kits=[Slow()])

    async def cancel_at_the_call():
        calling = asyncio.Event()
        task = asyncio.create_task(
            agent.run(
                "go",
                workdir=tmp_path,
                on_event=lambda kind, *_: kind == "tool_call" and calling.set(),
            )
        )
        await calling.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_at_the_call())
    log = EventLog.open(home / "events.db")
    (summary,) = log.runs()
    start = log.events(summary.run_id, ("run_started",))[0]
    recorded = Agent.from_record(start.data)
    recorded.model = ScriptedModel([tool_call("finish", answer="resumed")])
    with pytest.raises(
        ConfigError,
        match=r"the run used the kit 'slow', which is not "
        r"registered here .*resume the run from Python with "
        r"the same Agent",
    ):
        recorded.resume_sync(summary.run_id)
    agent.model = ScriptedModel([tool_call("wait"), tool_call("finish", answer="resumed")])
    assert agent.resume_sync(summary.run_id).answer == "resumed"  # the first step is replayed
