"""The offline suites of benchmarks/suites: each is well formed (every task loads, carries its
difficulty and split, and is listed in its README's table), the oracle resolves all of it and
doing nothing none of it, through the real command line."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from opensage.bench.suite import load_suite
from opensage.sandbox import open_sandbox

from .helpers import cli_json

SUITES = Path(__file__).resolve().parents[2] / "benchmarks" / "suites"
KINDS = ("swe", "terminal", "poc")
DIFFICULTIES = {"easy", "medium", "hard"}
SPLITS = {"train", "validation"}
ROW = re.compile(r"^\| `([\w.-]+)` \| (\w+) \| (\w+) \|", re.MULTILINE)


def metadata(task: Path) -> dict[str, str]:
    """A task's difficulty and split: instance.json's own fields for an SWE instance, the
    [metadata] table of task.toml for the others."""
    if (task / "instance.json").is_file():
        data = json.loads((task / "instance.json").read_text())
    else:
        data = tomllib.loads((task / "task.toml").read_text())["metadata"]
    return {"difficulty": data["difficulty"], "split": data["split"]}


@pytest.mark.parametrize("kind", KINDS)
def test_every_task_loads_and_is_listed_with_its_difficulty_and_split(kind):
    suite = load_suite(SUITES / kind)
    assert suite.broken == [], [b.message for b in suite.broken]
    assert len(suite.tasks) >= 10 and {t.kind for t in suite.tasks} == {kind}
    found = {t.id: metadata(t.path) for t in suite.tasks}
    assert {m["difficulty"] for m in found.values()} == DIFFICULTIES
    assert {m["split"] for m in found.values()} == SPLITS
    validation = [i for i, m in found.items() if m["split"] == "validation"]
    assert 2 <= len(validation) <= len(found) // 3
    # validation tasks cover the range of difficulty, not only the easy end
    assert {found[i]["difficulty"] for i in validation} == DIFFICULTIES
    readme = (SUITES / kind / "README.md").read_text()
    listed = {i: {"difficulty": d, "split": s} for i, d, s in ROW.findall(readme)}
    assert listed == found


def test_swe_patches_are_git_diffs_of_their_repository():
    for task in sorted(p for p in (SUITES / "swe").iterdir() if p.is_dir()):
        instance = json.loads((task / "instance.json").read_text())
        assert instance["instance_id"] == task.name
        for key in ("patch", "test_patch"):
            parts = instance[key].split("diff --git ")[1:]
            assert parts, f"{task.name}: {key} is not a git diff"
            for part in parts:
                name = re.match(r"a/(\S+) b/", part)[1]  # type: ignore[index]
                assert "\nnew file mode" in part or (task / "repo" / name).is_file(), (
                    f"{task.name}: {key} changes {name}, which repo/ does not have"
                )
        for test_id in instance["FAIL_TO_PASS"] + instance["PASS_TO_PASS"]:
            path = test_id.split("::")[0]
            assert (task / "repo" / path).is_file() or f"b/{path}" in instance["test_patch"]


def test_poc_inputs_are_small_and_made_by_their_script(tmp_path):
    sandbox = open_sandbox("bwrap")
    for task in sorted(p for p in (SUITES / "poc").iterdir() if p.is_dir()):
        poc = (task / "solution" / "poc").read_bytes()
        assert 0 < len(poc) <= 1024, task.name
        work = tmp_path / task.name
        work.mkdir()
        shutil.copy(task / "solution" / "gen_poc.py", work)
        result = asyncio.run(
            sandbox.exec(["python3", "gen_poc.py", "made"], workdir=work, timeout_s=60)
        )
        assert result.exit_code == 0, result.stderr
        assert (work / "made").read_bytes() == poc, task.name


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_the_oracle_resolves_every_task_and_null_none(tmp_path, kind):
    suite = str(SUITES / kind)
    ids = sorted(t.id for t in load_suite(SUITES / kind).tasks)
    oracle = cli_json(
        "bench",
        "run",
        suite,
        "--agent",
        "oracle",
        "--parallel",
        "2",
        "--output",
        str(tmp_path / "oracle"),
        timeout=600,
    )
    null = cli_json(
        "bench",
        "run",
        suite,
        "--agent",
        "null",
        "--parallel",
        "2",
        "--output",
        str(tmp_path / "null"),
        timeout=600,
    )
    assert (oracle["total"], oracle["resolved"], oracle["score"]) == (len(ids), len(ids), 1.0)
    assert (null["total"], null["resolved"], null["score"]) == (len(ids), 0, 0.0)
    for run, resolved in ((oracle, True), (null, False)):
        assert sorted(
            (r["task_id"], r["kind"], r["resolved"], r["error"]) for r in run["results"]
        ) == [(i, kind, resolved, None) for i in ids]
    if kind == "swe":  # the predictions hold the reference patches the oracle applied
        rows = [json.loads(line) for line in (tmp_path / "oracle" / "predictions.jsonl").open()]
        assert sorted(r["instance_id"] for r in rows) == ids
        for row in rows:
            instance = json.loads(
                (SUITES / kind / row["instance_id"] / "instance.json").read_text()
            )
            added = [
                line
                for line in instance["patch"].splitlines()
                if line.startswith("+") and not line.startswith("+++")
            ]
            assert all(line in row["model_patch"] for line in added), row["instance_id"]
