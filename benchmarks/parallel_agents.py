"""How well an ensemble runs its members in parallel, and what creating an agent costs.

An ensemble of 16 members against a scripted model that takes 200 ms per call, 5 calls each
(4 tool calls and a final answer): if the members overlapped perfectly the ensemble would take
1.0 s. Reports wall time and efficiency (ideal / actual) next to that ideal, and the time to
create an agent (create_agent, with its library write and event) against a bare tool call of
the same scripted run. Prints a table and writes benchmarks/results/parallel_agents.json.

    .venv/bin/python benchmarks/parallel_agents.py
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

MEMBERS, CALLS, LATENCY_S = 16, 5, 0.2
RESULTS = Path(__file__).parent / "results"


def team_model(scripts: dict[str, list[Any]]) -> Any:
    from opensage.models.scripted import FunctionModel

    def reply(messages: Any, tools: Any) -> Any:
        key = messages[0].content if messages[0].role == "system" else ""
        return scripts[key][sum(m.role == "assistant" for m in messages)]

    return FunctionModel(reply)


def call(tool: str, /, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": tool, "arguments": arguments}]}


def ensemble_run(workdir: Path) -> tuple[float, float]:
    """Wall seconds of the ensemble call alone, and of the whole run."""
    from opensage import Agent, tool

    @tool
    async def probe(i: int) -> str:
        """Does nothing."""
        return "ok"

    slow = [{"delay_s": LATENCY_S, **call("probe", i=i)} for i in range(CALLS - 1)]
    model = team_model(
        {
            "ROOT": [
                call("create_agent", name="member", instructions="MEMBER", tools=["probe"]),
                call("ensemble", task="t", agent="member", n=MEMBERS, select="vote"),
                "done",
            ],
            "MEMBER": [*slow, {"delay_s": LATENCY_S, "text": "same answer"}],
        }
    )
    started = time.perf_counter()
    result = Agent(
        "root",
        "ROOT",
        model=model,
        tools=[probe],
        kits=["files", "topology"],
        max_steps=MEMBERS * CALLS + 10,
    ).run_sync("go", workdir=workdir)
    total = time.perf_counter() - started
    assert result.ok, result
    from opensage.config import load_config
    from opensage.core.events import EventLog

    log = EventLog.open(load_config().events_path)
    begin = log.events(result.run_id, ("ensemble_started",))[0].ts
    end = log.events(result.run_id, ("ensemble_selected",))[0].ts
    return end - begin, total


def creation_cost(workdir: Path, agents: int = 50) -> tuple[float, float]:
    """Milliseconds per create_agent call and per trivial tool call, inside one scripted run."""
    from opensage import Agent, tool

    @tool
    async def noop() -> str:
        """Does nothing."""
        return "ok"

    def timed(steps: list[Any]) -> float:
        model = team_model({"ROOT": [*steps, "done"]})
        started = time.perf_counter()
        Agent(
            "root", "ROOT", model=model, tools=[noop], kits=["topology"], max_steps=len(steps) + 2
        ).run_sync("go", workdir=workdir)
        return time.perf_counter() - started

    creates = timed(
        [
            call("create_agent", name=f"a{i}", instructions=f"agent {i}", tools=[])
            for i in range(agents)
        ]
    )
    noops = timed([call("noop") for _ in range(agents)])
    return creates / agents * 1000, noops / agents * 1000


def main() -> None:
    os.environ["OPENSAGE_HOME"] = tempfile.mkdtemp(prefix="opensage-bench-")
    workdir = Path(tempfile.mkdtemp(prefix="opensage-bench-work-"))
    (workdir / "README.md").write_text("a small work dir to copy\n")
    ideal = CALLS * LATENCY_S
    runs = [ensemble_run(workdir) for _ in range(3)]
    ensemble_s = statistics.median(r[0] for r in runs)
    total_s = statistics.median(r[1] for r in runs)
    create_ms, noop_ms = creation_cost(workdir)
    rows = {
        "members": MEMBERS,
        "calls_each": CALLS,
        "latency_s": LATENCY_S,
        "ideal_s": ideal,
        "ensemble_wall_s": ensemble_s,
        "run_wall_s": total_s,
        "efficiency": ideal / ensemble_s,
        "create_agent_ms": create_ms,
        "tool_call_ms": noop_ms,
    }
    print(f"{'measure':<34} | {'value':>9} | baseline")
    print("-" * 64)
    print(f"{'ensemble of 16 x 5 calls, wall':<34} | {ensemble_s:>8.3f}s | ideal {ideal:.3f}s")
    print(f"{'efficiency (ideal / actual)':<34} | {ideal / ensemble_s:>9.2f} | target >= 0.85")
    print(f"{'whole run (3 root steps), wall':<34} | {total_s:>8.3f}s |")
    print(
        f"{'create_agent, per call':<34} | {create_ms:>7.2f}ms | a no-op tool call {noop_ms:.2f}ms"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "parallel_agents.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
