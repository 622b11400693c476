"""The importers, on small hand-made copies of the public formats (tests/bench/fixtures/public):
SWE-bench rows with a git clone, Terminal-Bench 2.0 and 1 task folders, CyberGym's task files.
Each import is read back with the suite's loader; the SWE task is resolved by the oracle through
the command line; malformed input is skipped with its reason and the rest imported."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opensage.bench.importers.cybergym import import_cybergym
from opensage.bench.importers.swe import import_swe
from opensage.bench.importers.terminal import import_terminal
from opensage.bench.poc import PocTask
from opensage.bench.suite import load_suite
from opensage.bench.swe import SweTask
from opensage.bench.terminal import TerminalTask
from opensage.cli_bench_import import app

from .helpers import cli_json

PUBLIC = Path(__file__).parent / "fixtures" / "public"
# The fixture's rows name the base commit this makes: fixed author, committer and dates.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada",
    "GIT_COMMITTER_EMAIL": "ada@example.org",
    "GIT_AUTHOR_DATE": "2024-01-02T03:04:05+00:00",
    "GIT_COMMITTER_DATE": "2024-01-02T03:04:05+00:00",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
BASE = "7d427dc9c9e5a19ffdb395672d5400dd00f2eead"


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    return done.stdout.strip()


def bench(suite: Path, agent: str, output: Path) -> tuple[int, int]:
    """(total, resolved) of `opensage bench run SUITE --agent AGENT`."""
    result = cli_json("bench", "run", str(suite), "--agent", agent, "--output", str(output))
    return result["total"], result["resolved"]


def rows() -> list[dict]:
    return [json.loads(line) for line in (PUBLIC / "swe" / "rows.jsonl").read_text().splitlines()]


@pytest.fixture
def repos(tmp_path: Path) -> Path:
    """A clone of acme/tinystats as SWE-bench names it (acme__tinystats): the base commit, then
    a later one holding the fix (history an import must not carry along)."""
    clone = tmp_path / "repos" / "acme__tinystats"
    shutil.copytree(PUBLIC / "swe" / "tinystats", clone)
    git(clone, "init", "-q", "-b", "main")
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "tinystats 0.1")
    assert git(clone, "rev-parse", "HEAD") == BASE
    git(clone, "apply", "-", stdin=rows()[0]["patch"])
    git(clone, "commit", "-q", "-am", "median of an even count")
    (clone / "scratch.txt").write_text("the user's own uncommitted work\n")
    return clone.parent


# --- SWE-bench ------------------------------------------------------------------------------


def test_swe_rows_become_tasks_at_their_base_commit_and_bad_rows_are_skipped(tmp_path, repos):
    out = tmp_path / "suite"
    report = import_swe(PUBLIC / "swe" / "rows.jsonl", repos, out)
    assert report.imported == ["acme__tinystats-1"]
    skipped = dict(report.skipped)
    assert set(skipped) == {
        "rows.jsonl line 2 (acme__tinystats-2)",
        "rows.jsonl line 3 (acme__tinystats-3)",
        "rows.jsonl line 4 (acme__unittest-4)",
    }
    assert "base_commit 0123456789abcdef" in skipped["rows.jsonl line 2 (acme__tinystats-2)"]
    assert "is not in the clone" in skipped["rows.jsonl line 2 (acme__tinystats-2)"]
    assert "problem_statement is missing" in skipped["rows.jsonl line 3 (acme__tinystats-3)"]
    assert "--test-cmd" in skipped["rows.jsonl line 4 (acme__unittest-4)"]
    assert sorted(p.name for p in out.iterdir()) == ["acme__tinystats-1"]

    suite = load_suite(out)
    assert not suite.broken
    [task] = suite.tasks
    assert isinstance(task, SweTask)
    assert task.fail_to_pass == ["tests/test_stats.py::test_median_even"]
    assert task.pass_to_pass == [
        "tests/test_stats.py::test_mean",
        "tests/test_stats.py::test_median_odd",
    ]
    assert task.test_cmd == "python -m pytest" and task.prompt.startswith("median() of an even")
    instance = json.loads((out / "acme__tinystats-1" / "instance.json").read_text())
    assert instance["base_commit"] == BASE and instance["version"] == "0.1"
    # The base commit's tree, not the clone's HEAD or working tree, and no history.
    repo = out / "acme__tinystats-1" / "repo"
    assert "return ordered[len(ordered) // 2]" in (repo / "tinystats" / "stats.py").read_text()
    assert not (repo / ".git").exists() and not (repo / "scratch.txt").exists()
    assert git(repos / "acme__tinystats", "status", "--porcelain") == "?? scratch.txt"


@pytest.mark.slow
def test_an_imported_swe_instance_is_resolved_by_the_oracle_and_not_by_null(tmp_path, repos):
    out = tmp_path / "suite"
    import_swe(PUBLIC / "swe" / "rows.jsonl", repos, out, instances={"acme__tinystats-1"})
    oracle = cli_json(
        "bench", "run", str(out), "--agent", "oracle", "--output", str(tmp_path / "o")
    )
    assert (oracle["total"], oracle["resolved"]) == (1, 1), oracle
    assert bench(out, "null", tmp_path / "n") == (1, 0)


def test_swe_import_through_the_command_line(tmp_path, repos):
    out = tmp_path / "suite"
    args = ["swe", str(PUBLIC / "swe" / "rows.jsonl"), "--repos", str(repos), "--output", str(out)]
    result = CliRunner().invoke(app, [*args, "--instances", "acme__tinystats-1,nope-9", "--json"])
    assert result.exit_code == 1, result.output  # one instance id matched no row
    data = json.loads(result.stdout)
    assert data["imported"] == ["acme__tinystats-1"]
    assert data["skipped"] == [
        {"task": "nope-9", "error": "no row of rows.jsonl has this instance_id"}
    ]
    # Again into the same suite: what is there is kept unless --force.
    again = CliRunner().invoke(app, [*args, "--instances", "acme__tinystats-1"])
    assert again.exit_code == 1 and "already exists" in again.stderr
    forced = CliRunner().invoke(app, [*args, "--instances", "acme__tinystats-1", "--force"])
    assert forced.exit_code == 0 and "imported 1 task(s)" in forced.stderr
    # A command given for every row imports the one whose ids are not pytest's.
    other = CliRunner().invoke(
        app,
        [
            *args[:4],
            "--output",
            str(tmp_path / "u"),
            "--instances",
            "acme__unittest-4",
            "--test-cmd",
            "python tests/run.py",
            "--json",
        ],
    )
    assert "no git clone of acme/unittest" in json.loads(other.stdout)["skipped"][0]["error"]


def test_swe_rows_that_cannot_be_read_are_reported_by_line(tmp_path, repos):
    bad = tmp_path / "rows.jsonl"
    good = (PUBLIC / "swe" / "rows.jsonl").read_text().splitlines()[0]
    bad.write_text("{not json\n" + good + "\n[1, 2]\n")
    report = import_swe(bad, repos, tmp_path / "suite")
    assert report.imported == ["acme__tinystats-1"]
    assert [where for where, _ in report.skipped] == ["rows.jsonl line 1", "rows.jsonl line 3"]
    # A JSON list of rows (as a data set's JSON export) is read too.
    listed = tmp_path / "rows.json"
    listed.write_text(json.dumps([json.loads(good)]))
    assert import_swe(listed, repos, tmp_path / "other").imported == ["acme__tinystats-1"]


# --- Terminal-Bench ---------------------------------------------------------------------------


def test_terminal_bench_2_tasks_are_copied_and_those_the_loader_rejects_reported(tmp_path):
    out = tmp_path / "suite"
    report = import_terminal(PUBLIC / "terminal-bench-2", out)
    assert report.imported == ["shout"]
    [(name, why)] = report.skipped
    assert name == "compose-only" and "environment/Dockerfile" in why and "missing" in why
    [task] = load_suite(out).tasks
    assert isinstance(task, TerminalTask) and task.runs_in_bwrap
    assert (task.agent_timeout_s, task.verifier_timeout_s) == (120, 60)
    for rel in ("environment/words.txt", "tests/test.sh", "solution/solve.sh"):
        assert (out / "shout" / rel).read_bytes() == (
            PUBLIC / "terminal-bench-2/shout" / rel
        ).read_bytes()


def test_terminal_bench_1_tasks_are_converted_to_the_harbor_layout(tmp_path):
    out = tmp_path / "suite"
    report = import_terminal(PUBLIC / "terminal-bench-1", out)
    assert report.imported == ["shout-tb1"]
    [(name, why)] = report.skipped
    assert name == "two-services" and "2 services" in why
    [task] = load_suite(out).tasks
    assert isinstance(task, TerminalTask)
    assert (task.agent_timeout_s, task.verifier_timeout_s) == (180, 30)
    assert task.prompt.startswith("Write the lines of /app/words.txt")
    assert task.plan.workdir == "/app"
    assert task.plan.env == {"TEST_DIR": "/tests", "SHOUT_FILE": "/app/shout.txt"}
    folder = out / "shout-tb1"
    assert (folder / "environment" / "words.txt").is_file()
    assert (folder / "tests" / "expected.txt").is_file()
    assert '"/tests/expected.txt"' in (folder / "tests" / "test.sh").read_text()
    assert not (folder / "environment" / "run-tests.sh").exists()
    meta = tomllib.loads((folder / "task.toml").read_text())["metadata"]
    assert meta["difficulty"] == "easy" and meta["tags"] == ["text"]


@pytest.mark.slow
def test_converted_terminal_bench_1_task_is_resolved_by_the_oracle(tmp_path):
    out = tmp_path / "suite"
    import_terminal(PUBLIC / "terminal-bench-1" / "shout-tb1", out)
    oracle = cli_json(
        "bench", "run", str(out), "--agent", "oracle", "--output", str(tmp_path / "o")
    )
    assert (oracle["total"], oracle["resolved"]) == (1, 1), oracle
    assert bench(out, "null", tmp_path / "n") == (1, 0)


# --- CyberGym -------------------------------------------------------------------------------


def _archive(source: Path, top: str, dest: Path, fix: bool = False) -> None:
    """A source archive as CyberGym ships them: the source tree under one folder."""
    with tarfile.open(dest, "w:gz") as tar:
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            name = f"{top}/{path.relative_to(source)}"
            data = path.read_bytes()
            if fix and path.name == "hdr.c":
                data = data.replace(b"if (len >= cap)", b"if (len >= cap || len > size - 1)")
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), path.stat().st_mode & 0o777
            tar.addfile(info, io.BytesIO(data))


@pytest.fixture
def cybergym(tmp_path: Path) -> Path:
    """The fixture's CyberGym data with its archives made: arvo:1001 whole, arvo:1002 without
    archives, oss-fuzz:1003 whose error.txt does not name the fuzz target."""
    root = tmp_path / "cybergym_data"
    shutil.copytree(PUBLIC / "cybergym", root, ignore=shutil.ignore_patterns("sources"))
    sources = PUBLIC / "cybergym" / "sources" / "vul"
    for task in ("arvo/1001", "oss-fuzz/1003"):
        _archive(sources, "src-vul", root / "data" / task / "repo-vul.tar.gz")
        _archive(sources, "src-fix", root / "data" / task / "repo-fix.tar.gz", fix=True)
    return root


def test_cybergym_tasks_become_poc_tasks_with_what_their_files_tell(tmp_path, cybergym):
    out = tmp_path / "suite"
    report = import_cybergym(cybergym, out)
    assert report.imported == ["arvo-1001"]
    skipped = dict(report.skipped)
    assert "repo-vul.tar.gz is missing" in skipped["arvo:1002"]
    assert "--binary" in skipped["oss-fuzz:1003"]
    [task] = load_suite(out).tasks
    assert isinstance(task, PocTask)
    assert task.binary == "out/name_fuzzer" and task.sanitizers == ["address"]
    assert task.build_command == 'export SRC="$PWD" && cd tinyhdr && bash "$SRC/build.sh"'
    assert task.run_timeout_s == 10
    folder = out / "arvo-1001"
    assert sorted(p.name for p in folder.iterdir()) == [
        "description.txt",
        "error.txt",
        "patch.diff",
        "repo-fix.tar.gz",
        "repo-vul.tar.gz",
        "solution",
        "task.toml",
    ]
    meta = tomllib.loads((folder / "task.toml").read_text())["metadata"]
    assert meta["task_id"] == "arvo:1001" and meta["project_name"] == "tinyhdr"


def test_cybergym_level_and_overrides_through_the_command_line(tmp_path, cybergym):
    out = tmp_path / "suite"
    result = CliRunner().invoke(
        app,
        [
            "cybergym",
            str(cybergym),
            "--output",
            str(out),
            "--level",
            "1",
            "--tasks",
            "oss-fuzz:1003",
            "--binary",
            "out/name_fuzzer",
            "--build-command",
            "bash build.sh",
        ],
    )
    assert result.exit_code == 0, result.output
    folder = out / "oss-fuzz-1003"
    assert sorted(p.name for p in folder.iterdir()) == [
        "description.txt",
        "repo-fix.tar.gz",
        "repo-vul.tar.gz",
        "task.toml",
    ]
    [task] = load_suite(out).tasks
    assert (task.binary, task.build_command) == ("out/name_fuzzer", "bash build.sh")
    # A source that is no CyberGym data is refused, and nothing is written.
    nowhere = ["cybergym", str(tmp_path / "nope"), "-o", str(tmp_path / "x")]
    missing = CliRunner().invoke(app, nowhere)
    assert missing.exit_code == 2 and "not a folder" in missing.stderr
    assert not (tmp_path / "x").exists()
    # One task's folder is a source too.
    one = import_cybergym(cybergym / "data" / "arvo" / "1001", tmp_path / "one", level=0)
    assert (
        one.imported == ["arvo-1001"] and not (tmp_path / "one/arvo-1001/description.txt").exists()
    )


@pytest.mark.slow
def test_an_imported_cybergym_task_is_resolved_by_the_oracle(tmp_path, cybergym):
    out = tmp_path / "suite"
    import_cybergym(cybergym, out, tasks={"arvo:1001"})
    oracle = cli_json(
        "bench", "run", str(out), "--agent", "oracle", "--output", str(tmp_path / "o")
    )
    assert (oracle["total"], oracle["resolved"]) == (1, 1), oracle
