"""The Ray engine on a local Ray: its workers have a home of their own, as on another node, so
a run shown on this machine proves it was carried back; a worker that dies is run again and
counted once; the command line joins a cluster by its address."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from opensage.bench.carry import export_runs
from opensage.bench.ray_engine import RayEngine, ray_module, run_job
from opensage.bench.results import TaskResult, read_results
from opensage.bench.runner import Job, Settings, make_engine, run_benchmark
from opensage.config import load_config
from opensage.errors import ConfigError

from .fixtures import terminal_task
from .helpers import by_task, cli, cli_json, kill_midway_and_resume

SCRIPTED = """
from opensage import Agent
from opensage.bench.agents import AgentOutcome
from opensage.models.scripted import ScriptedModel, tool_call


async def scripted(task):
    model = ScriptedModel([tool_call("finish", answer="looked at " + task.task_id)])
    agent = Agent("solver", "Solve the task.", model=model, home=task.home)
    result = await agent.run(task.prompt, workdir=task.workdir)
    return AgentOutcome(answer=result.answer, run_id=result.run_id, steps=result.steps)
"""

DIES_ONCE = """
import os
from pathlib import Path


async def dies_once(task):
    marker = Path({marker!r}) / task.task_id
    if not marker.exists():
        marker.touch()
        os._exit(1)  # the worker process dies in the middle of the task
"""


@pytest.fixture(scope="module")
def worker_home() -> Iterator[Path]:
    """A local Ray whose workers keep their OpenSage home apart from the test's: another
    node's, as far as the runs are concerned."""
    ray = ray_module()  # without the ray extra, a ConfigError that says how to install it
    scratch = Path(tempfile.mkdtemp(prefix="ray-"))  # short: Ray's socket paths must be
    home = scratch / "worker-home"
    # Ray's own processes keep the environment they start with: the worker's home there too.
    saved = os.environ.get("OPENSAGE_HOME")
    os.environ["OPENSAGE_HOME"] = str(home)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        _temp_dir=str(scratch / "ray"),
        runtime_env={"env_vars": {"OPENSAGE_HOME": str(home), "RAY_USAGE_STATS_ENABLED": "0"}},
    )
    if saved is None:
        del os.environ["OPENSAGE_HOME"]
    else:
        os.environ["OPENSAGE_HOME"] = saved
    try:
        yield home
    finally:
        ray.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)


def suite_of(root: Path, n: int = 2) -> Path:
    suite = root / "suite"
    for i in range(n):
        terminal_task(suite, f"upper-{i}")
    return suite


def run_on_ray(suite: Path, output: Path, agent: str, **options: object) -> list[TaskResult]:
    settings = Settings(suite, output, load_config().home, agent, **options)  # type: ignore[arg-type]
    return asyncio.run(run_benchmark(settings, RayEngine(parallel=2)))


@pytest.mark.slow  # a local Ray starts in seconds
def test_oracle_and_null_score_on_ray_as_they_do_locally(tmp_path, worker_home):
    suite = suite_of(tmp_path)
    oracle = run_on_ray(suite, tmp_path / "oracle", "oracle")
    null = run_on_ray(suite, tmp_path / "null", "null")
    assert [(r.task_id, r.resolved, r.error) for r in oracle] == [
        ("upper-0", True, None),
        ("upper-1", True, None),
    ]
    assert [(r.resolved, r.error) for r in null] == [(False, None)] * 2
    # Streamed into the results file, each once, with its log beside it.
    _, lines = read_results(tmp_path / "oracle")
    assert sorted(r.task_id for r in lines) == ["upper-0", "upper-1"]
    assert all((tmp_path / "oracle" / r.log).read_text().startswith("task upper-") for r in oracle)
    # Resuming sends nothing to Ray: every task has its result.
    again = asyncio.run(
        run_benchmark(Settings(suite, tmp_path / "oracle", load_config().home, "oracle"), NoJobs())
    )
    assert [r.resolved for r in again] == [True, True]


class NoJobs:
    name = "none"

    async def run(self, jobs, settings, events) -> None:
        assert not jobs, f"resuming a finished benchmark ran {jobs}"


@pytest.mark.slow  # a local Ray starts in seconds
def test_each_tasks_run_comes_back_to_this_machines_home(tmp_path, home, worker_home):
    (tmp_path / "agent.py").write_text(SCRIPTED)
    suite = suite_of(tmp_path)
    results = by_task(run_on_ray(suite, tmp_path / "out", "agent.py:scripted"))
    assert all(r.error is None and r.run_id and r.steps == 1 for r in results.values())
    for task_id, result in results.items():
        # Recorded on the worker's side, in its own home...
        with sqlite3.connect(worker_home / "events.db") as db:
            assert db.execute(
                "SELECT COUNT(*) FROM events WHERE run_id = ?", (result.run_id,)
            ).fetchone()[0]
        # ...and shown here, from this machine's home, whole.
        shown = cli("runs", "show", result.run_id, "--json").stdout
        assert json.loads(shown) and f"looked at {task_id}" in shown
        assert f"run {result.run_id}" in (tmp_path / "out" / result.log).read_text()


@pytest.mark.slow  # a local Ray starts in seconds
def test_a_worker_that_dies_is_run_again_and_counted_once(tmp_path, worker_home):
    (tmp_path / "marks").mkdir()
    (tmp_path / "agent.py").write_text(DIES_ONCE.format(marker=str(tmp_path / "marks")))
    suite = suite_of(tmp_path, 1)
    results = run_on_ray(suite, tmp_path / "out", "agent.py:dies_once")
    assert [(r.task_id, r.error, r.retries) for r in results] == [("upper-0", None, 1)]
    assert "died 1 time(s)" in results[0].notes[-1]
    _, lines = read_results(tmp_path / "out")
    assert [r.task_id for r in lines] == ["upper-0"]


@pytest.mark.slow  # a local Ray starts in seconds
def test_a_worker_that_keeps_dying_is_an_infrastructure_error(tmp_path, worker_home):
    (tmp_path / "agent.py").write_text("import os\n\nasync def dies(task):\n    os._exit(1)\n")
    suite = suite_of(tmp_path, 1)
    results = run_on_ray(suite, tmp_path / "out", "agent.py:dies", retries=1)
    assert [(r.error["kind"], r.retries) for r in results] == [("infra", 1)]  # type: ignore[index]
    assert "WorkerCrashedError" in results[0].error["message"]  # type: ignore[index]


@pytest.mark.slow  # a local Ray starts in seconds
def test_the_command_line_joins_a_cluster_by_its_address(tmp_path, worker_home):
    suite = suite_of(tmp_path, 1)
    address = ray_module().get_runtime_context().gcs_address
    data = cli_json(
        "bench", "run", str(suite), "--engine", "ray", "--ray-address", address,
        "--output", str(tmp_path / "out"),
    )  # fmt: skip
    assert (data["total"], data["resolved"]) == (1, 1)


@pytest.mark.slow  # a local Ray starts in seconds
def test_a_killed_ray_run_resumes_without_losing_or_repeating_a_task(tmp_path, worker_home):
    address = ray_module().get_runtime_context().gcs_address
    kill_midway_and_resume(tmp_path, "--engine", "ray", "--ray-address", address)


def test_a_job_on_a_node_that_cannot_see_the_output_sends_its_log_back(tmp_path, home):
    """Run as a Ray task would be, without Ray: the output dir is not on this 'node'."""
    suite = suite_of(tmp_path, 1)
    away = tmp_path / "on-the-other-machine"
    shipped = run_job(Settings(suite, away, home, "oracle"), Job("upper-0", 0))
    assert shipped.result.resolved and not away.exists()
    assert shipped.log and shipped.log.startswith("task upper-0")
    assert export_runs(home / "events.db", ["no-such-run"]).events == []


def test_the_ray_engine_without_ray_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ConfigError, match=r"pip install 'opensage\[ray\]'"):
        make_engine("ray", 2)
