"""The model-based bench agents (`swe`, `terminal`, `poc`), driven by scripted models through
the real kits, in the tasks' sandboxes, verified by the harness; and the lessons they carry
from task to task of one benchmark run, and no further."""

import asyncio
import json
from pathlib import Path

import pytest

from opensage.bench.agents import AgentTask, load_agent
from opensage.bench.kit_agents import PocAgent, SweAgent, SweGuidedAgent, TerminalAgent
from opensage.bench.kit_agents.lessons import Lessons
from opensage.config import load_config
from opensage.core.events import EventLog
from opensage.errors import ConfigError
from opensage.sandbox import open_sandbox

from .fixtures import terminal_task
from .helpers import by_task, cli_json, run_bench

SUITES = Path(__file__).resolve().parents[2] / "benchmarks" / "suites"
SCRIPTS = Path(__file__).resolve().parent / "fixtures" / "kit_agents"
PAGE_COUNT = (
    "def page_count(total: int, per_page: int) -> int:\n"
    "    if per_page < 1:\n"
    '        raise ValueError("per_page must be at least 1")\n'
    "    return (total + per_page - 1) // per_page\n"
)
FIXED = "(total + per_page - 1) // per_page"
LESSON = "Log durations may mix units (ms and s): convert them to one unit before comparing."


def scripted(name: str) -> str:
    return f"scripted:{SCRIPTS / name}.json"


def remember_then_finish(folder: Path) -> str:
    """A model that keeps LESSON as a lesson, then finishes."""
    path = folder / "script.json"
    remember = {"name": "remember", "arguments": {"content": LESSON, "kind": "lesson"}}
    finish = {"name": "finish", "arguments": {"answer": "done"}}
    path.write_text(json.dumps([{"tool_calls": [remember]}, {"tool_calls": [finish]}]))
    return f"scripted:{path}"


def run_started(run_id: str) -> dict:
    log = EventLog.open(load_config().events_path)
    return log.events(run_id, ("run_started",))[0].data


@pytest.mark.slow
def test_the_swe_agent_resolves_an_swe_task_through_the_cli(tmp_path):
    data = cli_json(
        "bench",
        "run",
        str(SUITES / "swe" / "durations-1"),
        "--agent",
        "swe",
        "--model",
        scripted("swe_durations"),
        "--output",
        str(tmp_path / "out"),
    )
    [result] = data["results"]
    assert (result["task_id"], result["resolved"], result["error"]) == ("durations-1", True, None)
    assert result["agent"] == "swe" and result["steps"] == 7 and result["output_tokens"] > 0
    # The run is recorded in OpenSage's home, with the kits the agent is built from.
    start = run_started(result["run_id"])
    assert start["agent"]["kits"] == ["swe", "topology", "synthesis", "memory"]
    assert "format_duration prints" in start["task"] and "python -m pytest" in start["task"]
    # The prediction is the agent's own change to the library (no test touched).
    [prediction] = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").open()]
    assert "round(seconds)" in prediction["model_patch"]
    assert "tests/" not in prediction["model_patch"]


def test_the_guided_agent_resolves_a_bug_fix_task_through_the_cli(tmp_path):
    calls = [
        ("run_tests", {}),
        ("symbols", {"name": "page_count"}),
        ("rewrite_function", {"code": PAGE_COUNT.replace(FIXED, "total // per_page + 1")}),
        ("finish", {"answer": "too soon"}),
        ("rewrite_function", {"code": PAGE_COUNT}),
        ("finish", {"answer": "page_count rounds up"}),
    ]
    script = tmp_path / "script.json"
    script.write_text(json.dumps([{"tool_calls": [{"name": n, "arguments": a}]} for n, a in calls]))
    data = cli_json(
        "bench",
        "run",
        str(SUITES / "bugfix" / "pager-1"),
        "--agent",
        "swe-guided",
        "--model",
        f"scripted:{script}",
        "--output",
        str(tmp_path / "out"),
    )
    [result] = data["results"]
    assert (result["task_id"], result["resolved"], result["error"]) == ("pager-1", True, None)
    assert result["steps"] == 6
    start = run_started(result["run_id"])
    assert start["agent"]["kits"] == ["swe"] and start["agent"]["opening"] == [
        "run_tests",
        "symbols",
        "rewrite_function",
    ]
    log = EventLog.open(load_config().events_path)
    results = [e.data for e in log.events(result["run_id"], ("tool_result",))]
    # The wrong fix broke a passing test and was taken back; finish waited for the tests.
    assert [r["ok"] for r in results] == [True, True, False, False, True, True]


@pytest.mark.slow
def test_the_swe_agent_has_an_ensemble_fix_checked_by_a_reproduction(tmp_path):
    # The root reproduces the bug, creates a fixer and runs an ensemble of it selected by the
    # reproduction: the member fixes its copy of the repository, the check passes there, and
    # the fix lands in the task's work dir, which the harness verifies.
    [result] = run_bench(
        SUITES / "swe" / "durations-1",
        tmp_path / "out",
        "swe",
        model=scripted("swe_durations_ensemble"),
    )
    assert (result.resolved, result.error) == (True, None)
    log = EventLog.open(load_config().events_path)
    [selected] = log.events(result.run_id, ("ensemble_selected",))
    assert selected.data["selected"] == 0
    assert "durations/format.py" in selected.data["changed"]


def test_the_terminal_agent_solves_a_terminal_task(tmp_path):
    # The script's commands name /app: the task's environment shows the work dir there.
    [result] = run_bench(
        SUITES / "terminal" / "slowest-error-request",
        tmp_path / "out",
        "terminal",
        model=scripted("terminal_slowest_error"),
    )
    assert (result.resolved, result.error, result.reward) == (True, None, 1.0)
    assert result.steps == 6 and result.run_id


@pytest.mark.slow
def test_the_poc_agent_solves_a_poc_task(tmp_path):
    [result] = run_bench(
        SUITES / "poc" / "tlv-overread",
        tmp_path / "out",
        "poc",
        model=scripted("poc_tlv_overread"),
    )
    assert (result.resolved, result.error) == (True, None)
    assert "vulnerable build: crashed: heap-buffer-overflow" in result.notes


def test_lessons_carry_to_the_next_tasks_of_the_run_and_not_into_the_users_memory(tmp_path):
    # One script for both tasks: remember a lesson, finish. The second task's prompt holds
    # the lesson the first one kept; the first's holds none.
    script = remember_then_finish(tmp_path)
    suite = tmp_path / "suite"
    terminal_task(suite, "a-logs")
    terminal_task(suite, "b-logs")
    results = by_task(run_bench(suite, tmp_path / "out", "terminal", model=script))
    first, second = (run_started(results[t].run_id)["task"] for t in ("a-logs", "b-logs"))
    assert LESSON not in first
    assert f"earlier tasks of this benchmark (they may not apply here):\n- {LESSON}" in second
    assert not load_config().memory_path.exists()  # the user's memory was not opened


def task(tmp_path: Path, name: str, shared: Path | None, attempt: int, model: str) -> AgentTask:
    workdir = tmp_path / name
    workdir.mkdir()
    config = load_config()
    sandbox = open_sandbox(None, hidden=(config.home,))
    return AgentTask(
        name,
        "terminal",
        "Find the slowest request in the logs.",
        workdir,
        str(workdir),
        sandbox,
        60,
        model,
        config.home,
        kits=("files", "shell"),
        shared=shared,
        attempt=attempt,
    )


def test_lessons_are_kept_in_the_runs_shared_folder_one_scope_per_repeat(tmp_path):
    script = remember_then_finish(tmp_path)
    shared = tmp_path / "out" / "shared"
    outcome = asyncio.run(TerminalAgent().solve(task(tmp_path, "a", shared, 0, script)))
    assert outcome.run_id and outcome.steps == 2 and outcome.answer == "done"
    assert (shared / "lessons.db").is_file()
    # Another agent object (a resumed run, another worker) reads them from the shared folder...
    lessons = Lessons()
    assert lessons.recall(task(tmp_path, "b", shared, 0, "unused")) == [LESSON]
    # ...but not another repeat's attempts, nor another benchmark run.
    assert lessons.recall(task(tmp_path, "c", shared, 1, "unused")) == []
    assert lessons.recall(task(tmp_path, "d", tmp_path / "other", 0, "unused")) == []


def test_an_agent_refuses_a_task_of_another_kind(tmp_path):
    with pytest.raises(ValueError, match="written for swe tasks.*run it with --agent terminal"):
        asyncio.run(SweAgent().solve(task(tmp_path, "a", None, 0, "unused")))


def test_the_built_in_agents_are_selected_by_name():
    assert isinstance(load_agent("swe"), SweAgent)
    assert isinstance(load_agent("terminal"), TerminalAgent)
    assert isinstance(load_agent("poc"), PocAgent)
    assert isinstance(load_agent("swe-guided"), SweGuidedAgent)
    with pytest.raises(ConfigError, match="swe, swe-guided, terminal, poc, oracle, null"):
        load_agent("smart")


def test_the_guided_kit_never_offers_the_home_inside_the_work_dir(tmp_path):
    from opensage.bench.kit_agents.guided import GuidedSweKit
    from tests.contexts import run_context

    work = tmp_path / "work"
    (work / "calc").mkdir(parents=True)
    (work / "calc" / "ops.py").write_text("def add(a, b):\n    return a + b\n")
    home = work / "state"  # a run in the home's parent folder
    home.mkdir()
    (home / "notes.py").write_text("def secret():\n    return 1\n")

    async def offered() -> dict:
        async with GuidedSweKit().session(run_context(work, home)) as tools:
            return {t.name: t.schema.parameters["properties"] for t in tools}

    properties = asyncio.run(offered())
    assert properties["view"]["path"]["enum"] == ["calc/ops.py"]
    assert properties["symbols"]["name"]["enum"] == ["add"]
    assert set(properties) == {
        "view",
        "search",
        "symbols",
        "run_tests",
        "rewrite_function",
        "finish",
    }
