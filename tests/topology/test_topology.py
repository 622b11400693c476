"""Scripted scenarios: a model building and running its own team."""

import asyncio
import contextlib
import json

import pytest

from opensage import Agent
from opensage.core.events import EventLog
from opensage.topology.library import AgentLibrary

from .conftest import call, team_model

KITS = ["files", "shell", "topology"]


def root(model, **kwargs):
    return Agent("root", "ROOT", model=model, kits=kwargs.pop("kits", KITS), **kwargs)


def events(home, run_id, *kinds):
    return EventLog.open(home / "events.db").events(run_id, kinds)


def last_tool_result(messages):
    return next(m for m in reversed(messages) if m.role == "tool").content


def test_a_three_stage_pipeline_of_created_agents(home, tmp_path):
    model = team_model(
        {
            "ROOT": [
                call(
                    "create_agent",
                    name="planner",
                    instructions="PLAN",
                    tools=[],
                    description="plans",
                ),
                call("create_agent", name="coder", instructions="CODE", tools=["write_file"]),
                call("create_agent", name="reviewer", instructions="REVIEW", tools=["read_file"]),
                call("run_agent", name="planner", task="plan a greeting"),
                lambda m: call("run_agent", name="coder", task=f"do: {last_tool_result(m)}"),
                lambda m: call("run_agent", name="reviewer", task=f"check: {last_tool_result(m)}"),
                lambda m: call("finish", answer=f"shipped; review says {last_tool_result(m)}"),
            ],
            "PLAN": ["write hello.txt saying hi"],
            "CODE": [
                lambda m: call("write_file", path="hello.txt", content="hi"),
                lambda m: call("finish", answer=f"wrote it ({m[1].content})"),
            ],
            "REVIEW": [
                call("read_file", path="hello.txt"),
                lambda m: call("finish", answer=f"LGTM: {last_tool_result(m).split()[-1]}"),
            ],
        }
    )
    result = root(model).run_sync("build it", workdir=tmp_path)
    assert result.answer == "shipped; review says LGTM: hi"
    assert (tmp_path / "hello.txt").read_text() == "hi"
    assert result.usage.requests == 7 + 1 + 2 + 2  # the team's calls count in the run's usage

    created = events(home, result.run_id, "agent_created")
    assert [e.data["name"] for e in created] == ["planner", "coder", "reviewer"]
    starts = {e.data["name"]: e for e in events(home, result.run_id, "agent_started")}
    calls = {e.id: e for e in events(home, result.run_id, "tool_call")}
    for name in ("planner", "coder", "reviewer"):
        assert calls[starts[name].parent].data["name"] == "run_agent"  # hung under its call
    # The coder was told the plan: one agent's output became the next one's task.
    assert "do: write hello.txt saying hi" in json.dumps(
        [
            m.to_dict()
            for m in EventLog.open(home / "events.db").conversation(
                result.run_id, starts["coder"].id
            )
        ]
    )


def test_background_agents_run_concurrently_and_are_collected(home, tmp_path):
    asked: set[str] = set()

    def met(me):
        """An agent's answer: whether both were asking the model at once (see `meet`)."""
        return lambda m: f"from {me}" if asked == {"A", "B"} else f"{me} alone"

    model = team_model(
        {
            "ROOT": [
                call("create_agent", name="a", instructions="A", tools=[]),
                call("create_agent", name="b", instructions="B", tools=[]),
                {
                    "tool_calls": [
                        {
                            "name": "run_agent",
                            "arguments": {"name": n, "task": "t", "background": True},
                        }
                        for n in ("a", "b")
                    ]
                },
                call("wait_agents", handles=["a#1", "b#1"]),
                lambda m: call("finish", answer=last_tool_result(m)),
            ],
            "A": [met("a")],
            "B": [met("b")],
        }
    )
    reply = model.request

    async def meet(messages, tools, settings=None):
        """Holds a's and b's requests until both have asked: agents run one after the other
        never meet, however fast or slow the machine."""
        if messages[0].content in ("A", "B"):
            asked.add(messages[0].content)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10):
                    while asked != {"A", "B"}:
                        await asyncio.sleep(0.01)
        return await reply(messages, tools, settings)

    model.request = meet
    result = root(model).run_sync("go", workdir=tmp_path)
    answers = json.loads(result.answer)
    assert answers == {
        "a#1": {
            "status": "finished",
            "answer": "from a",
            "message": "the model answered without calling a tool",
        },
        "b#1": {
            "status": "finished",
            "answer": "from b",
            "message": "the model answered without calling a tool",
        },
    }


def test_background_agents_are_cancelled_when_their_parent_finishes(home, tmp_path):
    model = team_model(
        {
            "ROOT": [
                call("create_agent", name="slow", instructions="SLOW", tools=[]),
                call("run_agent", name="slow", task="t", background=True),
                {"delay_s": 0.2, **call("finish", answer="not waiting")},
            ],  # slow has started
            "SLOW": [{"delay_s": 30, "text": "too late"}],
        }
    )
    result = root(model).run_sync("go", workdir=tmp_path)
    assert result.answer == "not waiting"
    ends = events(home, result.run_id, "agent_finished")
    (finished,) = [e for e in ends if e.agent == "slow"]
    (root_end,) = [e for e in ends if e.agent == "root"]
    assert finished.data["stop_reason"] == "cancelled"  # a root that waited would see it finish
    assert finished.id < root_end.id  # a child's end is recorded before its parent's


def test_waiting_on_an_agent_cancelled_with_its_creator_says_so(home, tmp_path):
    model = team_model(
        {
            "ROOT": [
                call(
                    "create_agent",
                    name="mid",
                    instructions="MID",
                    tools=["run_agent", "create_agent"],
                ),
                call("run_agent", name="mid", task="start one and leave"),
                call("wait_agents", handles=["leaf#1"]),
                lambda m: call("finish", answer=m[-1].content),
            ],
            "MID": [
                call("create_agent", name="leaf", instructions="LEAF", tools=[]),
                call("run_agent", name="leaf", task="t", background=True),
                {"delay_s": 0.2, "text": "left it running"},
            ],
            "LEAF": [{"delay_s": 30, "text": "too late"}],
        }
    )
    result = root(model).run_sync("go", workdir=tmp_path)
    assert result.ok and json.loads(result.answer) == {"leaf#1": {"status": "cancelled"}}


def test_an_ensemble_keeps_the_one_edit_that_passes_verification(home, tmp_path):
    (tmp_path / "answer.txt").write_text("unsolved\n")
    (tmp_path / "keep.txt").write_text("untouched\n")
    members: dict[int, int] = {}

    def member_step(messages):
        index = members.setdefault(id(messages), len(members))  # one per conversation
        return call("write_file", path="answer.txt", content=f"{index}\n")

    model = team_model(
        {
            "ROOT": [
                call("create_agent", name="fixer", instructions="FIX", tools=["write_file"]),
                call(
                    "ensemble",
                    task="solve",
                    agent="fixer",
                    n=4,
                    select="verify",
                    verify_command="grep -qx 2 answer.txt",
                ),
                lambda m: call("finish", answer=last_tool_result(m)),
            ],
            "FIX": [member_step, "done"],
        }
    )
    result = root(model, sandbox="bwrap").run_sync("go", workdir=tmp_path)
    report = json.loads(result.answer)
    assert sorted(c["verify_exit_code"] for c in report["candidates"]) == [0, 1, 1, 1]
    winner = report["selected"]
    assert report["candidates"][winner]["verify_exit_code"] == 0
    assert report["applied"] == {"changed": ["answer.txt"], "deleted": []}
    assert (tmp_path / "answer.txt").read_text() == "2\n"  # the passing edit, applied back
    assert (tmp_path / "keep.txt").read_text() == "untouched\n"
    assert len(events(home, result.run_id, "ensemble_member")) == 4
    (selected,) = events(home, result.run_id, "ensemble_selected")
    assert selected.data["selected"] == winner


def test_an_ensemble_inside_an_ensemble_member_works_on_the_members_copy(home, tmp_path):
    model = team_model(
        {
            "ROOT": [
                call("create_agent", name="inner", instructions="INNER", tools=["write_file"]),
                call(
                    "create_agent",
                    name="outer",
                    instructions="OUTER",
                    tools=["ensemble", "read_file"],
                ),
                call("ensemble", task="make it", agent="outer", n=1, select="vote"),
                lambda m: call("finish", answer=last_tool_result(m)),
            ],
            "OUTER": [
                call("ensemble", task="write it", agent="inner", n=1, select="vote"),
                call("read_file", path="made.txt"),
                lambda m: last_tool_result(m),
            ],
            "INNER": [call("write_file", path="made.txt", content="from inner\n"), "done"],
        }
    )
    result = root(model).run_sync("go", workdir=tmp_path)
    report = json.loads(result.answer)
    # The inner change reached the outer member's copy (it read it back), and from there,
    # chosen, the run's work dir.
    assert "from inner" in report["answer"]
    assert report["applied"] == {"changed": ["made.txt"], "deleted": []}
    assert (tmp_path / "made.txt").read_text() == "from inner\n"


@pytest.mark.parametrize(
    ("select", "answers", "expected"),
    [
        ("vote", ["Paris", "Lyon", "paris."], "Paris"),
        ("judge", ["Lyon", "Paris", "Marseille"], "Paris"),
    ],
)
def test_vote_and_judge_selection(home, tmp_path, select, answers, expected):
    members: dict[int, int] = {}

    def member(messages):
        return answers[members.setdefault(id(messages), len(members))]

    judge = '{"choice": %d, "reason": "Paris is the capital of France"}'
    model = team_model(
        {
            "ROOT": [
                call("create_agent", name="geo", instructions="GEO", tools=[]),
                call("ensemble", task="capital of France?", agent="geo", n=3, select=select),
                lambda m: call("finish", answer=last_tool_result(m)),
            ],
            "GEO": [member],
            "You judge candidate answers to a task, impartially.": [
                lambda m: judge % next(i for i, a in enumerate(answers) if a == "Paris")
            ],
        }
    )
    report = json.loads(root(model).run_sync("go", workdir=tmp_path).answer)
    assert report["answer"].lower().rstrip(".") == expected.lower()
    if select == "vote":
        assert report["reason"] == "2 of 3 members gave this answer"
    else:
        assert report["reason"] == "judge: Paris is the capital of France"


def test_a_child_hitting_its_budget_comes_back_as_an_error(home, tmp_path):
    (tmp_path / "opensage.toml").write_text("[topology]\ndefault_max_steps = 3\n")
    model = team_model(
        {
            "ROOT": [
                call("create_agent", name="loop", instructions="LOOP", tools=["list_files"]),
                call("run_agent", name="loop", task="forever"),
                lambda m: call("finish", answer=last_tool_result(m)),
            ],
            "LOOP": [call("list_files")] * 10,
        }
    )
    result = root(model).run_sync("go", workdir=tmp_path)
    assert result.ok
    assert "agent loop did not finish (max_steps: step limit of 3 reached" in result.answer


def test_no_agent_outspends_its_ancestors(home, tmp_path):
    model = team_model(
        {
            "ROOT": [
                call("create_agent", name="loop", instructions="LOOP", tools=["list_files"]),
                call("run_agent", name="loop", task="forever"),
                "never reached",
            ],
            "LOOP": [call("list_files")] * 50,
        }
    )
    result = root(model, max_steps=6).run_sync("go", workdir=tmp_path)
    assert result.stop_reason == "max_steps" and "budget 'root'" in result.message
    steps = [e for e in events(home, result.run_id, "model_response")]
    assert len(steps) == 6  # root and child together


def test_tool_subset_model_and_depth_violations_are_answered(home, tmp_path):
    (tmp_path / "opensage.toml").write_text("[topology]\nmax_depth = 1\n")
    model = team_model(
        {
            "ROOT": [
                call("create_agent", name="x", instructions="X", tools=["rm_rf"]),
                call("create_agent", name="y", instructions="Y", tools=[], model="openai:gpt-9"),
                call("create_agent", name="maker", instructions="MAKER", tools=["create_agent"]),
                call("run_agent", name="maker", task="make one"),
                lambda m: call("finish", answer=last_tool_result(m)),
            ],
            "MAKER": [
                call("create_agent", name="z", instructions="Z", tools=[]),
                lambda m: call("finish", answer=last_tool_result(m)),
            ],
        }
    )
    result = root(model).run_sync("go", workdir=tmp_path)
    assert "maker is at depth 1; agents it creates could not run (maximum depth 1)" in result.answer
    results = [e.data for e in events(home, result.run_id, "tool_result")]
    assert results[0]["error"] == "failed" and results[1]["error"] == "failed"
    conv = events(home, result.run_id, "agent_started")[0].id
    told = [
        m.content
        for m in EventLog.open(home / "events.db").conversation(result.run_id, conv)
        if m.role == "tool"
    ]
    assert "root has no 'rm_rf'" in told[0]
    assert "model 'openai:gpt-9' is not allowed here" in told[1]


def test_an_agent_one_below_the_maximum_depth_may_create_and_run_agents_one_at_it_may_not(
    home, tmp_path
):
    home.mkdir(parents=True, exist_ok=True)
    (home / "opensage.toml").write_text("[topology]\nmax_depth = 2\n")
    team = ["create_agent", "run_agent"]

    def results(m):
        return " | ".join(x.content for x in m if x.role == "tool")

    model = team_model(
        {
            "ROOT": [
                call("create_agent", name="leaf", instructions="LEAF", tools=[]),
                call("create_agent", name="mid", instructions="MID", tools=team),
                call("run_agent", name="mid", task="go on"),
                lambda m: call("finish", answer=last_tool_result(m)),
            ],
            # depth 1, one below the maximum: creates and runs an agent at depth 2
            "MID": [
                call("create_agent", name="bottom", instructions="BOTTOM", tools=team),
                call("run_agent", name="bottom", task="go on"),
                lambda m: call("finish", answer=results(m)),
            ],
            # depth 2, the maximum: may neither create an agent nor run one
            "BOTTOM": [
                call("create_agent", name="deeper", instructions="DEEPER", tools=[]),
                call("run_agent", name="leaf", task="go on"),
                lambda m: call("finish", answer=results(m)),
            ],
            "LEAF": ["leaf ran"],
            "DEEPER": ["deeper ran"],
        }
    )
    result = root(model, kits=["topology"]).run_sync("go", workdir=tmp_path)
    created, ran = result.answer.split(" | ", 1)
    assert created.startswith("agent 'bottom' created")
    assert ran == (
        "bottom is at depth 2; agents it creates could not run (maximum depth 2) | "
        "maximum depth 2 reached: bottom (depth 2) cannot run agents"
    )
    started = {e.data["name"] for e in events(home, result.run_id, "agent_started")}
    assert started == {"root", "mid", "bottom"}


def test_a_crashing_sub_agent_does_not_take_the_run_down(home, tmp_path):
    def explode(messages):
        raise RuntimeError("segfault in the model server")

    model = team_model(
        {
            "ROOT": [
                call("create_agent", name="bad", instructions="BAD", tools=[]),
                call("run_agent", name="bad", task="t"),
                lambda m: call("finish", answer=f"recovered: {last_tool_result(m)[:60]}"),
            ],
            "BAD": [explode],
        }
    )
    result = root(model).run_sync("go", workdir=tmp_path)
    assert result.ok and result.answer.startswith("recovered: agent bad did not finish")


def test_an_agent_created_in_one_run_is_reused_in_the_next(home, tmp_path):
    first = team_model(
        {
            "ROOT": [
                call(
                    "create_agent",
                    name="greeter",
                    instructions="GREET",
                    tools=[],
                    description="says hello",
                ),
                call("finish", answer="made"),
            ],
        }
    )
    root(first).run_sync("make a greeter", workdir=tmp_path)
    second = team_model(
        {
            "ROOT": [
                call("list_agents"),
                call("run_agent", name="greeter", task="greet"),
                lambda m: call("finish", answer=last_tool_result(m)),
            ],
            "GREET": ["hello from a kept agent"],
        }
    )
    result = root(second).run_sync("use it", workdir=tmp_path)
    assert result.answer == "hello from a kept agent"
    listing = events(home, result.run_id, "tool_result")[0]
    shown = json.loads(
        EventLog.open(home / "events.db").messages_by_event(result.run_id)[listing.id].content
    )
    assert shown["created_in_this_run"] == []
    assert [(a["name"], a["description"]) for a in shown["agents"]] == [("greeter", "says hello")]
    kept = AgentLibrary(home / "agents.db").search("hello")
    assert [a.name for a in kept] == ["greeter"] and kept[0].created_run != result.run_id


def test_retired_agents_cannot_be_run(home, tmp_path):
    model = team_model(
        {
            "ROOT": [
                call("create_agent", name="old", instructions="OLD", tools=[]),
                call("retire_agent", name="old"),
                call("run_agent", name="old", task="t"),
                lambda m: call("finish", answer=last_tool_result(m)),
            ],
        }
    )
    result = root(model).run_sync("go", workdir=tmp_path)
    assert "agent 'old' is retired" in result.answer


def test_agents_cli_lists_and_shows_kept_agents(home, tmp_path):
    from typer.testing import CliRunner

    from opensage.cli import app

    model = team_model(
        {
            "ROOT": [
                call(
                    "create_agent",
                    name="tester",
                    instructions="Run tests.",
                    tools=["run_command"],
                    description="runs the tests",
                ),
                call("finish", answer="ok"),
            ]
        }
    )
    root(model).run_sync("go", workdir=tmp_path)
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["agents", "list", "tests", "--json"]).stdout)
    assert [(a["name"], a["tools"]) for a in listed] == [("tester", ["run_command"])]
    shown = runner.invoke(app, ["agents", "show", "tester"])
    assert "runs the tests" in shown.stdout and "Run tests." in shown.stdout
    assert runner.invoke(app, ["agents", "show", "nobody"]).exit_code == 2


def test_a_team_through_the_cli(home, tmp_path):
    """`opensage run` gives the root agent the topology kit; one scripted file drives the root
    and, in turn, the agent it creates."""
    from typer.testing import CliRunner

    from opensage.cli import app

    script = tmp_path / "team.json"
    script.write_text(
        json.dumps(
            [
                call(
                    "create_agent", name="writer", instructions="Write files.", tools=["write_file"]
                ),
                call("run_agent", name="writer", task="write a.txt"),
                call("write_file", path="a.txt", content="x"),  # the writer's turn
                call("finish", answer="wrote a.txt"),  # the writer's answer
                call("finish", answer="team done"),  # the root again
            ]
        )
    )
    work = tmp_path / "work"
    work.mkdir()
    r = CliRunner().invoke(
        app, ["run", "go", "--model", f"scripted:{script}", "--workdir", str(work), "--json"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["answer"] == "team done"
    assert (work / "a.txt").read_text() == "x"
    assert json.loads(r.stdout)["usage"]["requests"] == 5  # the writer's calls count too


def test_nested_sub_agents_do_not_deadlock_on_the_concurrency_limit(home, tmp_path):
    (tmp_path / "opensage.toml").write_text("[topology]\nmax_concurrent = 1\n")
    model = team_model(
        {
            "ROOT": [
                call(
                    "create_agent",
                    name="mid",
                    instructions="MID",
                    tools=["run_agent", "create_agent"],
                ),
                call("run_agent", name="mid", task="delegate"),
                lambda m: call("finish", answer=m[-1].content),
            ],
            "MID": [
                call("create_agent", name="leaf", instructions="LEAF", tools=[]),
                call("run_agent", name="leaf", task="t"),
                lambda m: call("finish", answer=f"leaf said {m[-1].content}"),
            ],
            "LEAF": ["hello"],
        }
    )
    result = root(model, tool_timeout_s=10).run_sync("go", workdir=tmp_path)
    assert result.answer == "leaf said hello"
