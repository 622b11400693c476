"""SWE-bench rows to SWE tasks: instance.json (the row's fields, and a `test_cmd`) and repo/,
the repository at the row's `base_commit`, exported from a local clone with git (no network).

Rows come as the data sets publish them (princeton-nlp/SWE-bench, SWE-bench_Lite,
SWE-bench_Verified): a JSONL file, or a JSON list. `FAIL_TO_PASS` and `PASS_TO_PASS` are
JSON-encoded lists there; they are written as lists. The clone of `owner/name` is looked for in
REPOS as `<instance_id>/`, `<owner>__<name>/` (SWE-bench's own naming), `<owner>/<name>/` or
`<name>/`. repo/ holds the tree of the base commit only (no .git, so none of the later
history, which holds the fix, comes along).

The harness reads test results from JUnit XML, so it runs tests with pytest; rows whose test
ids are not pytest's (django's runtests.py labels, sympy's bin/test names) need a `test_cmd`
that writes JUnit XML to $JUNIT_XML, else they are skipped saying so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from opensage.bench.importers import (
    Report,
    Skip,
    finish_task,
    prepare_output,
    safe_name,
    start_task,
)
from opensage.bench.swe import DEFAULT_TEST_CMD
from opensage.errors import ConfigError

REQUIRED = ("instance_id", "repo", "base_commit", "problem_statement", "test_patch")
TEST_LISTS = ("FAIL_TO_PASS", "PASS_TO_PASS")
# Kept from the row besides the fields the harness reads: what a user compares runs by.
KEPT = ("version", "environment_setup_commit", "hints_text", "created_at")
# SWE-bench's repositories whose tests do not run under pytest (their harness runs
# ./tests/runtests.py and bin/test), with what they would need here.
NOT_PYTEST = {
    "django/django": "./tests/runtests.py",
    "sympy/sympy": "bin/test",
}
GIT_TIMEOUT_S = 600


def read_rows(path: Path) -> Iterator[tuple[str, dict[str, Any] | str]]:
    """(where, row) for each row of a JSONL or JSON file; a row that is no JSON object comes
    as (where, the problem) so that it is reported and the rest are read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the SWE-bench rows in {path}: {exc}") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            rows = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"{path} is not valid JSON: {exc}") from None
        for i, row in enumerate(rows):
            yield (f"{path.name} item {i + 1}", row if isinstance(row, dict) else "not an object")
        return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path.name} line {number}"
        try:
            row = json.loads(line)
        except ValueError as exc:
            yield (where, f"not valid JSON ({exc})")
            continue
        yield (where, row if isinstance(row, dict) else "not a JSON object")


def import_swe(
    rows: Path,
    repos: Path,
    output: Path,
    *,
    instances: set[str] | None = None,
    test_cmd: str | None = None,
    force: bool = False,
) -> Report:
    """Write each row (or each of `instances`) as a task folder named by its instance_id."""
    if not repos.is_dir():
        raise ConfigError(f"{repos} is not a folder: give the folder that holds the clones")
    entries = list(read_rows(rows))  # a file that cannot be read is refused before writing
    report = Report(prepare_output(output))
    seen: set[str] = set()
    for where, row in entries:
        name = row.get("instance_id") if isinstance(row, dict) else None
        label = f"{where} ({name})" if isinstance(name, str) else where
        if instances is not None and name not in instances:
            continue
        try:
            if isinstance(row, str):
                raise Skip(row)
            instance = _instance(row, test_cmd)
            if instance["instance_id"] in seen:
                raise Skip(f"instance_id {instance['instance_id']} appears twice; the first kept")
            seen.add(instance["instance_id"])
            clone = find_clone(repos, instance["instance_id"], row["repo"])
            folder = start_task(output, safe_name(instance["instance_id"]), force)
            try:
                export(clone, row["base_commit"], folder / "repo")
            except Skip:
                shutil.rmtree(folder)
                raise
            (folder / "instance.json").write_text(json.dumps(instance, indent=2) + "\n")
        except Skip as exc:
            report.skip(label, str(exc))
            continue
        finish_task(report, label, folder)
    if instances is not None:
        for missing in sorted(instances - seen):
            report.skip(missing, f"no row of {rows.name} has this instance_id")
    return report


def _instance(row: dict[str, Any], test_cmd: str | None) -> dict[str, Any]:
    """The row as instance.json: the fields checked, the test lists decoded."""
    for key in REQUIRED:
        value = row.get(key)
        if not isinstance(value, str) or not value.strip():
            raise Skip(f"{key} is {'missing' if value is None else 'not a non-empty string'}")
    instance: dict[str, Any] = {key: row[key] for key in ("instance_id", "repo")}
    for key in TEST_LISTS:
        value = row.get(key)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise Skip(f"{key} is a string that is not a JSON list of test ids") from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise Skip(f"{key} must be a list of test ids (or that list as a JSON string)")
        instance[key] = value
    if not instance["FAIL_TO_PASS"]:
        raise Skip("FAIL_TO_PASS is empty: there is no test that the fix makes pass")
    instance["problem_statement"] = row["problem_statement"]
    instance["test_patch"] = row["test_patch"]
    patch = row.get("patch")
    if isinstance(patch, str) and patch.strip():
        instance["patch"] = patch
    instance["base_commit"] = row["base_commit"]
    instance["test_cmd"] = test_cmd or _test_cmd(row["repo"], instance)
    for key in KEPT:
        if row.get(key) is not None:
            instance[key] = row[key]
    return instance


def _test_cmd(repo: str, instance: dict[str, Any]) -> str:
    """pytest, where the test ids are pytest's; else the row needs --test-cmd."""
    ids = instance["FAIL_TO_PASS"] + instance["PASS_TO_PASS"]
    if repo not in NOT_PYTEST and all(looks_like_pytest(i) for i in ids):
        return DEFAULT_TEST_CMD
    how = f" (SWE-bench runs them with {NOT_PYTEST[repo]})" if repo in NOT_PYTEST else ""
    raise Skip(
        f"its test ids are not pytest's{how}, e.g. {ids[0]!r}: the harness reads results "
        "from JUnit XML, so give --test-cmd with a command that runs these ids and writes "
        "JUnit XML to $JUNIT_XML"
    )


def looks_like_pytest(test_id: str) -> bool:
    """A pytest node id: a file path, then `::` parts (or the file alone)."""
    path = test_id.split("::", 1)[0]
    return path.endswith(".py") and " " not in path


def find_clone(repos: Path, instance_id: str, repo: str) -> Path:
    """The local clone for a row: the first of SWE-bench's names that is a git repository."""
    owner, _, name = repo.partition("/")
    candidates = [repos / instance_id, repos / f"{owner}__{name}", repos / owner / name]
    candidates.append(repos / name)
    for candidate in candidates:
        if candidate.is_dir() and _git_dir(candidate):
            return candidate
    tried = ", ".join(str(c.relative_to(repos)) + "/" for c in candidates)
    raise Skip(f"no git clone of {repo} in {repos} (looked for {tried})")


def export(clone: Path, commit: str, dest: Path) -> None:
    """The tree of `commit` at `dest`, as a checkout makes it (line endings and filters as the
    repository's attributes say), through a throwaway index: the clone's own index, HEAD and
    working tree are not touched."""
    git_dir = _git_dir(clone)
    assert git_dir is not None
    found = _git(git_dir, None, "cat-file", "-e", f"{commit}^{{commit}}")
    if found.returncode != 0:
        raise Skip(
            f"base_commit {commit} is not in the clone at {clone} (fetch it there: "
            f"git -C {clone} fetch origin {commit})"
        )
    dest.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="opensage-import-") as scratch:
        index = str(Path(scratch) / "index")
        for args in (("read-tree", commit), ("checkout-index", "--all", "--force")):
            done = _git(git_dir, dest, *args, index=index)
            if done.returncode != 0:
                raise Skip(f"git {args[0]} of {commit} in {clone} failed: {done.stderr.strip()}")


def _git_dir(path: Path) -> Path | None:
    """The git directory of a clone at `path` (a working tree's, or a bare one); None for a
    folder that is no clone itself, even inside another repository."""
    bare = (path / "HEAD").is_file() and (path / "objects").is_dir()
    if not (path / ".git").exists() and not bare:
        return None
    done = _git(None, None, "-C", str(path), "rev-parse", "--absolute-git-dir")
    return Path(done.stdout.strip()) if done.returncode == 0 else None


def _git(
    git_dir: Path | None, work_tree: Path | None, *args: str, index: str | None = None
) -> subprocess.CompletedProcess[str]:
    cmd = ["git"]
    if git_dir is not None:
        cmd.append(f"--git-dir={git_dir}")
    if work_tree is not None:
        cmd.append(f"--work-tree={work_tree}")
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    if index is not None:
        env["GIT_INDEX_FILE"] = index
    try:
        return subprocess.run(
            [*cmd, *args],
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            env=env,
            check=False,
        )
    except FileNotFoundError:
        raise ConfigError("git is not installed: importing SWE-bench rows needs it") from None
    except subprocess.TimeoutExpired:
        raise Skip(f"git {' '.join(args[:2])} took longer than {GIT_TIMEOUT_S} s") from None
