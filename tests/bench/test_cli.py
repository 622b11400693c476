"""`opensage bench run|compare` through the real command line: the --json shape, malformed
tasks skipped, parallel runs agreeing with serial ones, resuming after a SIGKILL, compare."""

import json

import pytest

from .fixtures import poc_task, swe_task, terminal_task
from .helpers import cli, cli_json, kill_midway_and_resume


def mixed_suite(root):
    suite = root / "suite"
    terminal_task(suite)
    terminal_task(suite, "json", reward_json=True)
    swe_task(suite)
    swe_task(suite, "calc-2", json_string_ids=True)
    poc_task(suite)
    return suite


def test_json_has_the_totals_and_one_entry_per_task(tmp_path):
    suite = tmp_path / "suite"
    terminal_task(suite)
    swe_task(suite)
    data = cli_json(
        "bench", "run", str(suite), "--agent", "oracle", "--output", str(tmp_path / "out")
    )
    assert {"total", "resolved", "score", "results"} <= set(data)
    assert (data["total"], data["resolved"], data["score"]) == (2, 2, 1.0)
    assert data["agent"] == "oracle" and data["output"] == str(tmp_path / "out")
    for entry in data["results"]:
        assert {
            "task_id",
            "kind",
            "resolved",
            "error",
            "backend",
            "steps",
            "cost_usd",
            "wall_s",
        } <= set(entry)
    assert [(e["task_id"], e["kind"], e["resolved"], e["error"]) for e in data["results"]] == [
        ("calc-1", "swe", True, None),
        ("upper", "terminal", True, None),
    ]


def test_a_malformed_task_is_skipped_with_its_error_and_the_rest_run(tmp_path):
    suite = tmp_path / "suite"
    terminal_task(suite)
    bad = swe_task(suite, "calc-bad")
    (bad / "instance.json").write_text(json.dumps({"instance_id": "x"}))
    data = cli_json("bench", "run", str(suite), "--output", str(tmp_path / "out"))
    results = {e["task_id"]: e for e in data["results"]}
    assert results["upper"]["resolved"] and results["upper"]["error"] is None
    assert results["calc-bad"]["error"] == {
        "kind": "malformed",
        "message": "instance.json: problem_statement is missing",
    }
    assert (data["total"], data["resolved"], data["errors"]) == (2, 1, {"malformed": 1})
    text = cli("bench", "run", str(suite), "--output", str(tmp_path / "out"))
    assert "malformed: calc-bad: instance.json: problem_statement is missing" in text.stderr


def test_the_table_shows_every_task_and_the_totals(tmp_path):
    suite = tmp_path / "suite"
    terminal_task(suite)
    swe_task(suite)
    proc = cli("bench", "run", str(suite), "--agent", "null", "--output", str(tmp_path / "o"))
    lines = proc.stdout.splitlines()
    assert lines[0].split() == [
        "task",
        "kind",
        "result",
        "backend",
        "steps",
        "tokens",
        "cost",
        "wall",
    ]
    assert lines[1].split()[:4] == ["calc-1", "swe", "not", "resolved"]
    assert lines[2].split()[:4] == ["upper", "terminal", "not", "resolved"]
    assert lines[3].split()[:3] == ["total", "0/2", "(0.0%)"]
    # Not a terminal: one plain line per task as it ends.
    assert "[1/2] " in proc.stderr and "[2/2] " in proc.stderr


@pytest.mark.slow
def test_parallel_runs_give_the_same_results_as_serial_ones(tmp_path):
    suite = mixed_suite(tmp_path)
    outcomes = {}
    for agent in ("oracle", "null"):
        for parallel in ("1", "4"):
            data = cli_json(
                "bench",
                "run",
                str(suite),
                "--agent",
                agent,
                "--parallel",
                parallel,
                "--output",
                str(tmp_path / f"{agent}-{parallel}"),
            )
            outcomes[agent, parallel] = [
                (e["task_id"], e["resolved"], e["error"], e["reward"]) for e in data["results"]
            ]
    assert outcomes["oracle", "1"] == outcomes["oracle", "4"]
    assert outcomes["null", "1"] == outcomes["null", "4"]
    assert [r[1] for r in outcomes["oracle", "1"]] == [True] * 5
    assert [r[1] for r in outcomes["null", "1"]] == [False] * 5


@pytest.mark.slow
def test_compare_shows_both_sets_and_what_flipped(tmp_path):
    suite = tmp_path / "suite"
    terminal_task(suite)
    terminal_task(suite, "same")
    (suite / "same" / "solution" / "solve.sh").write_text("exit 0\n")  # the oracle fails it
    swe_task(suite)
    a, b = tmp_path / "null", tmp_path / "oracle"
    cli("bench", "run", str(suite), "--agent", "null", "--output", str(a))
    cli("bench", "run", str(suite), "--agent", "oracle", "--output", str(b))
    proc = cli("bench", "compare", str(a), str(b))
    rows = {line.split()[0]: line.split()[1:] for line in proc.stdout.splitlines()[1:4]}
    assert rows == {
        "calc-1": ["0/1", "1/1", "gained"],
        "same": ["0/1", "0/1"],
        "upper": ["0/1", "1/1", "gained"],
    }
    assert "null (null)" in proc.stdout.splitlines()[0]
    assert "0/3 (0.0%)" in proc.stdout and "2/3 (66.7%)" in proc.stdout
    assert "flipped: 2 gained, 0 lost" in proc.stdout
    data = cli_json("bench", "compare", str(a), str(b))
    assert data["gained"] == ["calc-1", "upper"] and data["lost"] == []
    assert (data["a"]["resolved"], data["b"]["resolved"]) == (0, 2)
    assert data["tasks"][1] == {"task_id": "same", "a": "0/1", "b": "0/1", "flip": None}


def test_usage_errors_exit_2_with_a_message(tmp_path):
    suite = tmp_path / "suite"
    terminal_task(suite)
    engine = cli("bench", "run", str(suite), "--engine", "spark", check=False)
    assert engine.returncode == 2 and "unknown engine 'spark'" in engine.stderr
    agent = cli("bench", "run", str(suite), "--agent", "smart", check=False)
    assert agent.returncode == 2 and "unknown agent 'smart'" in agent.stderr
    missing = cli("bench", "compare", str(tmp_path), str(tmp_path), check=False)
    assert missing.returncode == 2 and "holds no results.jsonl" in missing.stderr


AGENTS = """
import asyncio

from opensage.bench.agents import AgentOutcome


async def upper(task):
    await task.exec("tr a-z A-Z < /data/words.txt > out.txt")
    return AgentOutcome(answer="done", steps=3, input_tokens=100, output_tokens=20,
                        cost_usd=0.01)
"""


def test_a_users_own_agent_is_loaded_from_its_file(tmp_path):
    suite = tmp_path / "suite"
    terminal_task(suite)
    (tmp_path / "mine.py").write_text(AGENTS)
    data = cli_json(
        "bench", "run", str(suite), "--agent", f"{tmp_path}/mine.py:upper", cwd=tmp_path
    )
    [entry] = data["results"]
    assert entry["resolved"] and (entry["steps"], entry["input_tokens"], entry["cost_usd"]) == (
        3,
        100,
        0.01,
    )
    assert (data["tokens"], data["cost_usd"]) == (120, 0.01)
    # The default output dir is named after the suite and the agent, so the same command
    # finds it again.
    assert data["output"] == str(tmp_path / "bench-results" / "suite-mine-upper")


@pytest.mark.slow
def test_a_killed_run_resumes_without_losing_or_repeating_a_task(tmp_path):
    kill_midway_and_resume(tmp_path)


def test_the_live_line_counts_done_resolved_cost_and_what_runs():
    from rich.console import Console

    from opensage.bench.progress import Progress
    from opensage.bench.results import TaskResult
    from opensage.bench.runner import Job

    progress = Progress(Console(), live=False)
    progress.total = 4
    progress.started(Job("a", 0))
    progress.started(Job("b\x1b[2J", 0))  # a task id is shown as text, never as a sequence
    progress.live = object()  # type: ignore[assignment]  # what a terminal gets, not drawn here
    progress.finished(TaskResult("a", "swe", resolved=True, cost_usd=0.25))
    line = progress.render().plain
    assert line.startswith("● 1/4 done  1 resolved  $0.2500  ")
    assert line.endswith("running: b\\x1b[2J")


MODEL_AGENT = '''
from opensage import Agent
from opensage.bench.agents import AgentOutcome
from opensage.models import ScriptedModel, tool_call


async def scripted(task):
    """A model-based agent as the kit-based ones will be: its commands go to the task's
    sandbox, its run is recorded in OpenSage's home."""
    command = "tr a-z A-Z < /data/words.txt > out.txt"
    model = ScriptedModel([tool_call("run_command", command=command),
                           tool_call("finish", answer="written")])
    agent = Agent(model=model, kits=list(task.kits), sandbox=task.sandbox, home=task.home)
    result = await agent.run(task.prompt, workdir=task.workdir)
    return AgentOutcome(answer=result.answer, run_id=result.run_id, steps=result.steps)
'''


def test_a_model_based_agents_run_opens_with_runs_show(tmp_path):
    suite = tmp_path / "suite"
    terminal_task(suite)
    (tmp_path / "model_agent.py").write_text(MODEL_AGENT)
    data = cli_json(
        "bench",
        "run",
        str(suite),
        "--agent",
        f"{tmp_path}/model_agent.py:scripted",
        "--output",
        str(tmp_path / "out"),
    )
    [entry] = data["results"]
    assert entry["resolved"] and entry["steps"] == 2 and entry["run_id"]
    shown = cli("runs", "show", entry["run_id"])
    assert "run_command" in shown.stdout and "written" in shown.stdout


def test_bench_import_is_a_command_of_the_cli(tmp_path):
    from .fixtures import terminal_task

    terminal_task(tmp_path / "source")
    imported = cli(
        "bench", "import", "terminal", str(tmp_path / "source"), "-o", str(tmp_path / "suite")
    )
    assert imported.returncode == 0, imported.stderr
    assert (tmp_path / "suite" / "upper" / "instruction.md").is_file()
    missing = cli(
        "bench",
        "import",
        "terminal",
        str(tmp_path / "none"),
        "-o",
        str(tmp_path / "x"),
        check=False,
    )
    assert missing.returncode == 2 and "not a folder of Terminal-Bench tasks" in missing.stderr
