"""The results file as a killed run leaves it: a line cut short never counts, and predictions
of attempts without a result are dropped before they run again."""

import json

import pytest

from opensage.bench.results import (
    ResultsFile,
    TaskResult,
    compare,
    prune_predictions,
    read_results,
    summary,
    write_prediction,
)
from opensage.errors import ConfigError


def test_a_line_cut_short_by_a_kill_is_dropped_and_the_next_starts_clean(tmp_path):
    file = ResultsFile(tmp_path)
    file.append(TaskResult("a", "swe", resolved=True))
    with file.path.open("a") as f:
        f.write('{"task_id": "b", "kind": "sw')  # the process died in the middle of a write
    assert [r.task_id for r in read_results(tmp_path)[1]] == ["a"]  # reading repairs nothing
    assert file.path.read_text().endswith('"sw')
    assert [r.key for r in file.load()] == [("a", 0)]
    file.append(TaskResult("b", "swe"))
    assert [json.loads(line)["task_id"] for line in file.path.read_text().splitlines()] == [
        "a",
        "b",
    ]


def test_a_damaged_line_in_the_middle_is_named(tmp_path):
    file = ResultsFile(tmp_path)
    file.path.write_text('{"task_id": "a", "kind": "swe"}\nnot json\n{"task_id": "b"}\n')
    with pytest.raises(ConfigError, match="results.jsonl line 2 is not a result"):
        file.load()


def test_predictions_of_attempts_without_a_result_are_dropped(tmp_path):
    done = TaskResult(
        "t1",
        "swe",
        model="m",
        instance_id="i1",
        prediction={"instance_id": "i1", "model_patch": "p1"},
    )
    cut = TaskResult(
        "t2",
        "swe",
        model="m",
        instance_id="i2",
        prediction={"instance_id": "i2", "model_patch": "p2"},
    )
    again = TaskResult(
        "t1",
        "swe",
        attempt=1,
        model="m",
        instance_id="i1",
        prediction={"instance_id": "i1", "model_patch": "p3"},
    )
    for r in (done, cut, again):
        write_prediction(tmp_path, r)
    prune_predictions(tmp_path, [done])  # t2 and the second attempt at t1 never ended
    rows = [json.loads(line) for line in (tmp_path / "predictions.jsonl").open()]
    assert rows == [{"instance_id": "i1", "model_name_or_path": "m", "model_patch": "p1"}]
    assert (tmp_path / "predictions.1.jsonl").read_text() == ""


def test_totals_and_flips_count_attempts():
    a = [
        TaskResult("x", "swe", 0, True),
        TaskResult("x", "swe", 1, True),
        TaskResult("y", "poc", 0, False, error={"kind": "infra", "message": "m"}),
        TaskResult("z", "poc", 0, True),
    ]
    b = [
        TaskResult("x", "swe", 0, False),
        TaskResult("x", "swe", 1, True),
        TaskResult("y", "poc", 0, True),
        TaskResult("w", "poc", 0, True),
    ]
    totals = summary(a)
    assert (totals["total"], totals["resolved"], totals["score"], totals["errors"]) == (
        4,
        3,
        0.75,
        {"infra": 1},
    )
    result = compare(a, b)
    assert result.rows == [
        ("w", None, "1/1", ""),
        ("x", "2/2", "1/2", "-"),
        ("y", "0/1", "1/1", "+"),
        ("z", "1/1", None, ""),
    ]
    assert (result.gained, result.lost) == (["y"], ["x"])
