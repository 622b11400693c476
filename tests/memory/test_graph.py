"""The execution graph of a scripted multi-step run."""

from opensage import Agent
from opensage.core.events import EventLog
from opensage.memory.graph import ExecutionGraph

from ..topology.conftest import call, team_model


def test_the_graph_of_a_multi_step_run(home, tmp_path):
    model = team_model(
        {
            "ROOT": [
                call("write_file", path="app.py", content="print('hi')"),
                call("read_file", path="missing.py"),  # fails
                call("read_file", path="app.py"),  # the same tool works: a fix
                call("create_agent", name="checker", instructions="CHECK", tools=["read_file"]),
                call("run_agent", name="checker", task="check app.py"),
                call("finish", answer="done"),
            ],
            "CHECK": [call("read_file", path="app.py"), "looks fine"],
        }
    )
    result = Agent("root", "ROOT", model=model, kits=["files", "topology"]).run_sync(
        "build", workdir=tmp_path
    )
    graph = ExecutionGraph.from_log(EventLog.open(home / "events.db"), result.run_id)

    agents = {n.label: n for n in graph.nodes.values() if n.kind == "agent"}
    assert set(agents) == {"root", "checker"}
    spawner = [n for d, k, n in graph.neighbours(agents["checker"].id) if k == "spawned"]
    assert [n.label for n in spawner] == ["run_agent(name='checker', task='check app.py')"]

    changed = graph.files_changed()
    assert list(changed) == ["app.py"]
    assert [graph.nodes[i].label for i in changed["app.py"]] == [
        "write_file(path='app.py', content=\"print('hi')\")"
    ]
    readers = [n.label for d, k, n in graph.neighbours("file:app.py") if k == "read"]
    assert readers == ["read_file(path='app.py')", "read_file(path='app.py')"]  # root, checker

    ((error, fix),) = graph.errors()
    assert error.data["kind"] == "exception" and "missing.py" in error.data["text"]
    assert fix is not None and fix.label == "read_file(path='app.py')" and fix.agent == "root"

    # The shortest chain from the root agent to the file: its first model call, the call
    # that wrote the file, the file.
    chain = [graph.nodes[i] for i in graph.path(agents["root"].id, "file:app.py")]
    assert [(n.kind, n.label) for n in chain] == [
        ("agent", "root"),
        ("model_call", "step 1"),
        ("tool_call", "write_file(path='app.py', content=\"print('hi')\")"),
        ("file", "app.py"),
    ]
    timeline = [n.kind for n in graph.timeline(agent="checker")]
    assert timeline[0] == "agent" and "tool_call" in timeline
    times = [n.ts for n in graph.timeline()]
    assert times == sorted(times)
