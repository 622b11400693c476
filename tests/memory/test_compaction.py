"""Context compaction: older steps folded into a summary that keeps the answerable facts."""

from dataclasses import replace
from importlib import resources

from opensage import Agent
from opensage.core.budget import Budget
from opensage.core.events import EventLog
from opensage.core.loop import AgentConfig, AgentLoop
from opensage.memory.graph import ExecutionGraph
from opensage.models.scripted import FunctionModel

from ..contexts import run_context
from ..topology.conftest import call

SUMMARIZER = (resources.files("opensage") / "prompts" / "compaction.md").read_text()
FILLER = "lorem ipsum dolor sit amet " * 80  # ~2,000 characters a file


def test_compaction_keeps_the_facts_and_the_record(home, tmp_path):
    for i in range(6):
        fact = "PORT=8123" if i == 1 else f"NOTE{i}=nothing"
        (tmp_path / f"f{i}.txt").write_text(f"{FILLER}\n{fact}\n{FILLER}")
    seen = []

    def reply(messages, tools):
        if messages[0].content == SUMMARIZER:  # the summary keeps the lines that state facts
            facts = [line.split()[-1] for line in messages[1].content.split("\n") if "=" in line]
            return "Facts found: " + ", ".join(facts)
        seen.append(list(messages))
        step = len(seen) - 1  # folded views hold fewer replies: count the requests instead
        reads = [call("read_file", path=f"f{i}.txt") for i in range(6)]
        if step < 6:
            return reads[step]
        answer = "port 8123" if any("8123" in m.content for m in messages) else "unknown"
        return call("finish", answer=answer)

    model = FunctionModel(reply)
    result = Agent(
        "reader", "Find the port.", model=model, kits=["files"], compact_at_tokens=1000
    ).run_sync("what is the port?", workdir=tmp_path)
    assert result.answer == "port 8123"

    log = EventLog.open(home / "events.db")
    folds = log.events(result.run_id, ("context_compacted",))
    assert folds, "the context was never compacted"
    last_view = seen[-1]
    summary = next(m for m in last_view if m.content.startswith("[Summary of earlier steps"))
    assert "PORT=8123" in summary.content and "events" in summary.content.split("\n")[0]
    conv = log.events(result.run_id, ("agent_started",))[0].id
    stored = log.conversation(result.run_id, conv)
    assert len(last_view) < len(stored)  # the model saw less than what is kept...
    assert sum("PORT=8123" in m.content for m in stored if m.role == "tool") == 1  # ...all kept
    graph = ExecutionGraph.from_log(log, result.run_id)
    assert sum(n.kind == "tool_call" for n in graph.nodes.values()) == 7  # 6 reads, finish

    # A resumed conversation rebuilds the same view the model last saw.
    ctx = replace(run_context(tmp_path, home), log=log, run_id=result.run_id)
    loop = AgentLoop(AgentConfig(name="reader", model=model), ctx=ctx, budget=Budget())
    loop.conv = conv
    loop._rebuild_view()
    assert loop.messages[: len(last_view)] == last_view
