"""The bug-fix suite of benchmarks/suites: the easiest SWE tier keeps its promises. Every
instance loads, is easy and listed with its split; its reference patch changes one line of one
source file; the reporter's failing test is in the repository and the test patch adds one more;
and the harness scores a task right end to end (the oracle resolves it, doing nothing does not).
"""

from __future__ import annotations

from opensage.bench.suite import load_suite
from opensage.bench.swe import SweTask
from opensage.kits.swe.patch import parse_patch

from .helpers import run_bench
from .test_suites import ROW, SUITES, metadata

BUGFIX = SUITES / "bugfix"


def tasks() -> list[SweTask]:
    suite = load_suite(BUGFIX)
    assert suite.broken == [], [b.message for b in suite.broken]
    assert all(isinstance(t, SweTask) for t in suite.tasks)
    return suite.tasks  # type: ignore[return-value]


def changed_lines(patch: str) -> list[tuple[str, str, str]]:
    """(file, "-" or "+", line) for every line a patch removes or adds."""
    return [
        (f.new_path or f.old_path or "", sign, line)
        for f in parse_patch(patch)
        for hunk in f.hunks
        for sign, line in hunk.lines
        if sign in "-+"
    ]


def test_eight_easy_instances_listed_with_their_split():
    found = {t.id: metadata(t.path) for t in tasks()}
    assert len(found) == 8
    assert {m["difficulty"] for m in found.values()} == {"easy"}
    splits = sorted(m["split"] for m in found.values())
    assert splits == ["train"] * 6 + ["validation"] * 2
    listed = {
        i: {"difficulty": d, "split": s}
        for i, d, s in ROW.findall((BUGFIX / "README.md").read_text())
    }
    assert listed == found


def test_each_patch_changes_one_line_of_one_source_file():
    for task in tasks():
        [source] = parse_patch(task.patch or "")
        assert source.old_path == source.new_path and not source.new_path.startswith("tests/")
        assert (task.repo / source.new_path).is_file(), task.id
        assert [sign for _, sign, _ in changed_lines(task.patch or "")] == ["-", "+"], task.id


def test_the_failing_test_is_in_the_repo_and_the_test_patch_adds_one_more():
    for task in tasks():
        [tests] = parse_patch(task.test_patch)
        assert tests.new_path and tests.new_path.startswith("tests/test_"), task.id
        lines = changed_lines(task.test_patch)
        assert {sign for _, sign, _ in lines} == {"+"}, task.id  # it only adds
        hidden = [line.split("(")[0][4:] for _, _, line in lines if line.startswith("def test_")]
        visible = (task.repo / tests.new_path).read_text()
        assert len(hidden) == 1 and f"def {hidden[0]}(" not in visible, task.id
        assert len(task.fail_to_pass) == 2, task.id
        names = {test_id.split("::")[1] for test_id in task.fail_to_pass}
        [reporters] = names - set(hidden)
        assert f"def {reporters}(" in visible, task.id
        assert reporters in task.prompt, task.id
        assert task.pass_to_pass and not set(task.pass_to_pass) & set(task.fail_to_pass)


def test_the_oracle_resolves_a_task_and_null_does_not(tmp_path):
    task = BUGFIX / "stats-1"
    [oracle] = run_bench(task, tmp_path / "oracle", "oracle")
    [null] = run_bench(task, tmp_path / "null", "null")
    assert (oracle.resolved, oracle.error) == (True, None), oracle
    assert (null.resolved, null.error) == (False, None), null
    assert any("did not pass" in note for note in null.notes), null.notes
