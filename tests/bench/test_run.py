"""Running tasks: the oracle resolves every kind and doing nothing resolves none; the agent sees
only what it may; timeouts, agent failures and infrastructure errors are each reported as what
they are."""

import json
import time

import pytest

from opensage.bench.results import read_results

from .fixtures import poc_task, swe_task, terminal_task
from .helpers import by_task, run_bench

SUITES = {
    "terminal": lambda root: [terminal_task(root), terminal_task(root, "json", reward_json=True)],
    "swe": lambda root: [swe_task(root), swe_task(root, "calc-2", json_string_ids=True)],
    "poc": lambda root: [
        poc_task(root),
        poc_task(root, "archived", archive=True),
        poc_task(root, "stdin", args="args = []", fixed=False),
    ],
}


@pytest.mark.parametrize(
    "kind", [k if k == "terminal" else pytest.param(k, marks=pytest.mark.slow) for k in SUITES]
)
def test_the_oracle_resolves_every_kind_and_null_resolves_none(tmp_path, kind):
    suite = tmp_path / "suite"
    suite.mkdir()
    ids = sorted(p.name for p in SUITES[kind](suite))
    oracle = run_bench(suite, tmp_path / "oracle", "oracle")
    null = run_bench(suite, tmp_path / "null", "null")
    assert [(r.task_id, r.kind, r.resolved, r.error) for r in oracle] == [
        (i, kind, True, None) for i in ids
    ]
    assert [(r.task_id, r.resolved, r.error) for r in null] == [(i, False, None) for i in ids]
    assert {r.backend for r in oracle + null} == {"bwrap"}
    if kind == "terminal":
        assert all("the host's system stands in" in r.notes[0] for r in oracle)
        assert [r.reward for r in oracle + null] == [1.0, 1.0, 0.0, 0.0]
    # Each attempt's work is gone; its log stays.
    assert not (tmp_path / "oracle" / "work").exists() or not any(
        (tmp_path / "oracle" / "work").iterdir()
    )
    assert all((tmp_path / "oracle" / r.log).is_file() for r in oracle)


def test_swe_predictions_are_written_as_swe_bench_jsonl(tmp_path):
    swe_task(tmp_path / "suite")
    run_bench(tmp_path / "suite", tmp_path / "out", "oracle", model="scripted:x.json")
    rows = [json.loads(line) for line in (tmp_path / "out" / "predictions.jsonl").open()]
    assert len(rows) == 1 and set(rows[0]) == {"instance_id", "model_name_or_path", "model_patch"}
    assert rows[0]["instance_id"] == "demo__calc-calc-1"
    assert rows[0]["model_name_or_path"] == "scripted:x.json"
    assert "-    return a - b\n+    return a + b" in rows[0]["model_patch"]


SPY = """
import json, os
from pathlib import Path

class Spy:
    name = "spy"

    async def solve(self, task):
        probe = await task.exec(
            "pwd; echo GREETING=$GREETING; ls -A; ls /tests 2>&1 | head -1; "
            "ls /solution 2>&1 | head -1; cat /data/words.txt 2>&1 | head -1")
        seen = {"files": sorted(os.listdir(task.workdir)), "cwd": task.cwd, "kits": task.kits,
                "prompt": task.prompt, "probe": probe.stdout, "reference": task.reference}
        Path(os.environ["SPY_OUT"], task.task_id + ".json").write_text(json.dumps(seen))
"""


@pytest.fixture
def spy(tmp_path, monkeypatch):
    (tmp_path / "spy.py").write_text(SPY)
    (tmp_path / "seen").mkdir()
    monkeypatch.setenv("SPY_OUT", str(tmp_path / "seen"))
    return f"{tmp_path / 'spy.py'}:Spy"


def seen(tmp_path, task):
    return json.loads((tmp_path / "seen" / f"{task}.json").read_text())


def test_a_terminal_agent_works_in_the_environment_without_tests_or_solution(tmp_path, spy):
    terminal_task(tmp_path / "suite")
    run_bench(tmp_path / "suite", tmp_path / "out", spy)
    found = seen(tmp_path, "upper")
    assert found["files"] == ["greet.txt"] and found["cwd"] == "/app"
    assert found["kits"] == ["files", "shell"]
    assert found["reference"] is None
    lines = found["probe"].splitlines()
    assert lines[:3] == ["/app", "GREETING=hello", "greet.txt"]
    assert "No such file" in lines[3] and "No such file" in lines[4]  # no /tests, no /solution
    assert lines[5] == "upper words"  # what the Dockerfile copied elsewhere is there


def test_an_swe_agent_sees_the_repository_and_not_the_tests_to_come(tmp_path, spy):
    swe_task(tmp_path / "suite")
    run_bench(tmp_path / "suite", tmp_path / "out", spy)
    found = seen(tmp_path, "calc-1")
    assert found["files"] == ["calc.py", "pytest.ini", "tests"] and found["kits"] == ["swe"]
    assert found["prompt"] == "add(2, 3) returns -1 instead of 5."
    assert "test_add" not in found["probe"] and found["reference"] is None


@pytest.mark.parametrize(
    ("level", "files"),
    [
        (0, ["repo-vul"]),
        (1, ["description.txt", "repo-vul"]),
        (2, ["description.txt", "error.txt", "repo-vul"]),
        (3, ["description.txt", "error.txt", "patch.diff", "repo-fix", "repo-vul"]),
    ],
)
def test_a_poc_agent_sees_what_its_level_allows(tmp_path, spy, level, files):
    poc_task(tmp_path / "suite")
    run_bench(tmp_path / "suite", tmp_path / "out", spy, level=level)
    found = seen(tmp_path, "reader")
    assert found["files"] == files
    assert ("trusts a length byte" in found["prompt"]) == (level >= 1)
    assert "`poc`" in found["prompt"] and "out/reader" in found["prompt"]


CHEATS = """
class Plant:
    name = "plant"

    async def solve(self, task):
        await task.exec("mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt; "
                        "echo '{\\"reward\\": 1}' > /logs/verifier/reward.json")


class Sleeper:
    name = "sleeper"

    async def solve(self, task):
        import asyncio
        await asyncio.sleep(60)


class Crasher:
    name = "crasher"

    async def solve(self, task):
        raise ValueError("the agent broke")
"""


def test_a_reward_planted_by_the_agent_does_not_count(tmp_path):
    (tmp_path / "cheats.py").write_text(CHEATS)
    # test.sh writes reward.json: a reward.txt left in /logs/verifier would be read first.
    terminal_task(tmp_path / "suite", reward_json=True)
    [result] = run_bench(tmp_path / "suite", tmp_path / "out", f"{tmp_path}/cheats.py:Plant")
    assert not result.resolved and result.reward == 0.0


def test_the_agents_timeout_from_task_toml_is_enforced_and_its_work_still_judged(tmp_path):
    (tmp_path / "cheats.py").write_text(CHEATS)
    terminal_task(tmp_path / "suite", agent_s=1)
    start = time.monotonic()
    [result] = run_bench(tmp_path / "suite", tmp_path / "out", f"{tmp_path}/cheats.py:Sleeper")
    assert time.monotonic() - start < 20
    assert result.error["kind"] == "timeout" and "1 s" in result.error["message"]
    assert not result.resolved and result.reward == 0.0 and result.agent_s == 1


def test_the_verifiers_timeout_from_task_toml_is_enforced(tmp_path):
    task = terminal_task(tmp_path / "suite", verifier_s=1)
    (task / "tests" / "test.sh").write_text("sleep 30\necho 1 > /logs/verifier/reward.txt\n")
    start = time.monotonic()
    [result] = run_bench(tmp_path / "suite", tmp_path / "out", "oracle")
    assert time.monotonic() - start < 20
    assert result.error["kind"] == "verifier" and "timeout (1 s)" in result.error["message"]
    assert not result.resolved


def test_a_test_script_that_writes_no_reward_is_a_verifier_error(tmp_path):
    task = terminal_task(tmp_path / "suite")
    (task / "tests" / "test.sh").write_text("echo checked\n")
    [result] = run_bench(tmp_path / "suite", tmp_path / "out", "oracle")
    assert result.error["kind"] == "verifier" and "wrote no" in result.error["message"]


def test_an_agent_that_raises_is_reported_with_its_error(tmp_path):
    (tmp_path / "cheats.py").write_text(CHEATS)
    swe_task(tmp_path / "suite")
    [result] = run_bench(tmp_path / "suite", tmp_path / "out", f"{tmp_path}/cheats.py:Crasher")
    assert (
        result.error["kind"] == "agent" and "ValueError: the agent broke" in result.error["message"]
    )
    assert not result.resolved and result.retries == 0


@pytest.mark.slow
def test_infrastructure_errors_are_retried_then_reported_apart(tmp_path):
    poc_task(tmp_path / "suite", "broken-build", command="echo no compiler today >&2; exit 3")
    poc_task(tmp_path / "suite", "fine")
    results = by_task(run_bench(tmp_path / "suite", tmp_path / "out", "oracle", retries=2))
    bad = results["broken-build"]
    assert bad.error["kind"] == "infra" and bad.retries == 2 and not bad.resolved
    assert "building the vul source failed" in bad.error["message"]
    assert "no compiler today" in bad.error["message"]
    assert results["fine"].resolved and results["fine"].error is None


def test_a_task_malformed_only_for_the_oracle_is_reported_as_malformed(tmp_path):
    task = terminal_task(tmp_path / "suite")
    (task / "solution" / "solve.sh").unlink()
    [oracle] = run_bench(tmp_path / "suite", tmp_path / "oracle", "oracle")
    assert oracle.error == {
        "kind": "malformed",
        "message": "solution/solve.sh: missing (the oracle needs it)",
    }
    [null] = run_bench(tmp_path / "suite", tmp_path / "null", "null")
    assert null.error is None


def test_repeats_are_attempts_of_their_own_and_more_can_be_added(tmp_path):
    terminal_task(tmp_path / "suite")
    first = run_bench(tmp_path / "suite", tmp_path / "out", "oracle", repeat=2)
    assert [(r.task_id, r.attempt, r.resolved) for r in first] == [
        ("upper", 0, True),
        ("upper", 1, True),
    ]
    more = run_bench(tmp_path / "suite", tmp_path / "out", "oracle", repeat=3)
    assert [r.attempt for r in more] == [0, 1, 2]
    _, stored = read_results(tmp_path / "out")
    assert sorted(r.key for r in stored) == [("upper", 0), ("upper", 1), ("upper", 2)]


def test_an_output_dir_of_another_benchmark_is_refused(tmp_path):
    from opensage.errors import ConfigError

    terminal_task(tmp_path / "suite")
    run_bench(tmp_path / "suite", tmp_path / "out", "oracle")
    with pytest.raises(ConfigError, match="holds results of another benchmark.*agent 'oracle'"):
        run_bench(tmp_path / "suite", tmp_path / "out", "null")


def test_files_copied_anywhere_are_where_the_dockerfile_put_them(tmp_path):
    from .fixtures import DOCKERFILE

    task = terminal_task(
        tmp_path / "suite",
        dockerfile=DOCKERFILE
        + ("COPY greet.txt /hello.txt\nCOPY data /opt/lib/data\nCOPY greet.txt data/ ./copies/\n"),
    )
    solve = task / "solution" / "solve.sh"
    solve.write_text(
        '[ "$(cat /hello.txt /opt/lib/data/words.txt copies/greet.txt '
        "copies/words.txt | tr '\\n' ' ')\" = 'hi upper words hi upper words ' ] "
        "&& " + solve.read_text().splitlines()[1] + "\n"
    )
    [oracle] = run_bench(tmp_path / "suite", tmp_path / "out", "oracle")
    assert oracle.resolved, (tmp_path / "out" / oracle.log).read_text()


VANDAL = """
import shutil

class Vandal:
    name = "vandal"

    async def solve(self, task):  # host code: it can break what the sandbox is made of
        shutil.rmtree(task.workdir)
"""


def test_a_sandbox_that_cannot_start_is_an_infrastructure_error(tmp_path):
    (tmp_path / "vandal.py").write_text(VANDAL)
    terminal_task(tmp_path / "suite")
    [result] = run_bench(
        tmp_path / "suite", tmp_path / "out", f"{tmp_path}/vandal.py:Vandal", retries=1
    )
    assert result.error["kind"] == "infra" and result.retries == 1
    assert "verifying failed" in result.error["message"]
    assert "the bind source" in result.error["message"]


@pytest.mark.parametrize(
    ("backend", "code", "stderr", "failed"),
    [
        ("bwrap", 1, "bwrap: Can't mount proc on /newroot/proc: Operation not permitted", True),
        ("bwrap", 1, "AssertionError: expected 5", False),  # the command's own failure
        ("container", 125, "Error: crun: cannot start", True),
        ("container", 1, "bwrap: no", False),
    ],
)
def test_a_sandbox_that_failed_is_told_from_a_command_that_failed(backend, code, stderr, failed):
    from opensage.bench.attempt import InfraError, check_sandbox
    from opensage.sandbox import ExecResult

    result = ExecResult(code, "", stderr, 0.1)
    if failed:
        with pytest.raises(InfraError, match="the sandbox could not run test.sh"):
            check_sandbox(result, backend, "test.sh")
    else:
        check_sandbox(result, backend, "test.sh")


def test_a_test_command_of_the_tasks_own_writes_junit_to_the_path_it_is_given(tmp_path):
    task = swe_task(tmp_path / "suite", test_cmd="sh run_tests.sh")
    (task / "repo" / "run_tests.sh").write_text(
        'exec python -m pytest -p no:cacheprovider --junitxml="$JUNIT_XML" "$@"\n'
    )
    oracle = run_bench(tmp_path / "suite", tmp_path / "oracle", "oracle")
    null = run_bench(tmp_path / "suite", tmp_path / "null", "null")
    assert [(r.resolved, r.error) for r in oracle + null] == [(True, None), (False, None)]
    assert "2 of 3 tests did not pass" in null[0].notes[0]


TAMPER = """
import os

class OwnTests:
    name = "own-tests"

    async def solve(self, task):  # its own test_add.py, which test_patch replaces
        await task.exec("sed -i '0,/a - b/s//a + b/' calc.py && "
                        "printf 'def test_add():\\\\n    assert False\\\\n' > tests/test_add.py")


class LinkOut:
    name = "link-out"

    async def solve(self, task):  # tests/ made a link to a folder outside the repository
        await task.exec(f"rm -rf tests && ln -s {os.environ['OUTSIDE']} tests")
"""


def test_the_files_test_patch_changes_are_reset_first_as_swe_bench_does(tmp_path):
    (tmp_path / "tamper.py").write_text(TAMPER)
    swe_task(tmp_path / "suite")
    [result] = run_bench(tmp_path / "suite", tmp_path / "out", f"{tmp_path}/tamper.py:OwnTests")
    assert result.resolved, result.notes


def test_resetting_test_files_never_follows_a_link_out_of_the_repository(tmp_path, monkeypatch):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "test_add.py").write_text("precious")
    monkeypatch.setenv("OUTSIDE", str(outside))
    (tmp_path / "tamper.py").write_text(TAMPER)
    swe_task(tmp_path / "suite")
    [result] = run_bench(tmp_path / "suite", tmp_path / "out", f"{tmp_path}/tamper.py:LinkOut")
    assert not result.resolved
    assert (outside / "test_add.py").read_text() == "precious"


def test_an_output_dir_inside_the_suite_is_no_task(tmp_path):
    terminal_task(tmp_path / "suite")
    for _ in range(2):  # the second run finds the first one's output among the tasks
        results = run_bench(
            tmp_path / "suite", tmp_path / "suite" / "bench-results" / "o", "oracle"
        )
        assert [(r.task_id, r.error) for r in results] == [("upper", None)]


def test_a_task_whose_run_lines_the_host_satisfies_runs_in_bwrap_and_says_so(tmp_path):
    from .fixtures import DOCKERFILE

    line = "RUN apt-get update && apt-get install -y git && rm -rf /var/lib/apt/lists/*\n"
    terminal_task(
        tmp_path / "suite",
        dockerfile=DOCKERFILE + line,
        solve="#!/bin/bash\ngit --version > /dev/null && tr a-z A-Z < /data/words.txt > out.txt\n",
    )
    [oracle] = run_bench(tmp_path / "suite", tmp_path / "out", "oracle")
    assert oracle.resolved, (tmp_path / "out" / oracle.log).read_text()
    assert oracle.backend == "bwrap"
    assert any("RUN apt-get update" in n and "the host has git" in n for n in oracle.notes)
