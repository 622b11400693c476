"""SWE tasks (SWE-bench): instance.json with `instance_id`, `problem_statement`,
`FAIL_TO_PASS`, `PASS_TO_PASS`, `test_patch`, `patch` (the oracle's) and an optional `test_cmd`
(default `python -m pytest`), and repo/, the repository at its base commit.

The agent gets a fresh copy of repo/ and the problem statement; its patch is every change it
made there (the SWE kit's `Baseline`, taken before it starts, diffed after). Verification, in
the sandbox: another fresh copy of repo/, the agent's patch applied, the files `test_patch`
changes put back as repo/ has them (as SWE-bench resets them), `test_patch` applied (both
with `git apply`), and the FAIL_TO_PASS and PASS_TO_PASS tests run with `test_cmd`; resolved when
every one of them passed, as the JUnit XML report says (the SWE kit's runner script and
parser). A `test_cmd` that is not pytest writes its JUnit XML to $JUNIT_XML. The prediction
(`instance_id`, `model_name_or_path`, `model_patch`) is what the `swebench` package evaluates.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from opensage.bench.agents import Reference
from opensage.bench.attempt import Attempt, InfraError, Verdict, Workspace, check_sandbox, tail
from opensage.bench.tasks import MalformedTask, Task, read_json, strings
from opensage.core.tools import ToolError
from opensage.kits.swe import tests as runner
from opensage.kits.swe.diff import Baseline
from opensage.kits.swe.patch import PatchError, parse_patch
from opensage.sandbox import Sandbox, SandboxLimits

DEFAULT_TEST_CMD = "python -m pytest"
PYTEST_ARGS = "-p no:cacheprovider -o junit_family=xunit1 -o junit_logging=no"
# SWE-bench's test commands say `python`; an image may only have `python3`.
PYTHON = 'command -v python >/dev/null 2>&1 || python() { python3 "$@"; }; '


@dataclass
class SweTask(Task):
    instance_id: str = ""
    fail_to_pass: list[str] = field(default_factory=list)
    pass_to_pass: list[str] = field(default_factory=list)
    test_patch: str = ""
    patch: str | None = None
    test_cmd: str = DEFAULT_TEST_CMD

    @property
    def repo(self) -> Path:
        return self.path / "repo"


def load(path: Path) -> SweTask:
    data = read_json(path, "instance.json")
    fields: dict[str, Any] = {}
    for key in ("instance_id", "problem_statement", "test_patch"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            what = "is missing" if value is None else "must be a non-empty string"
            raise MalformedTask(path, "instance.json", f"{key} {what}")
        fields[key] = value
    tests = {key: _test_ids(data.get(key), path, key) for key in ("FAIL_TO_PASS", "PASS_TO_PASS")}
    if not tests["FAIL_TO_PASS"]:
        raise MalformedTask(
            path,
            "instance.json",
            "FAIL_TO_PASS is empty: a task needs a test that fails before the fix",
        )
    patch = data.get("patch")
    if patch is not None and not isinstance(patch, str):
        raise MalformedTask(path, "instance.json", "patch must be a string (a unified diff)")
    test_cmd = data.get("test_cmd") or DEFAULT_TEST_CMD
    if not isinstance(test_cmd, str):
        raise MalformedTask(path, "instance.json", "test_cmd must be a string")
    if not (path / "repo").is_dir():
        raise MalformedTask(path, "repo/", "missing: the repository at its base commit")
    return SweTask(
        path.name,
        "swe",
        path,
        fields["problem_statement"],
        instance_id=fields["instance_id"],
        fail_to_pass=tests["FAIL_TO_PASS"],
        pass_to_pass=tests["PASS_TO_PASS"],
        test_patch=fields["test_patch"],
        patch=patch,
        test_cmd=test_cmd,
    )


def _test_ids(value: Any, path: Path, key: str) -> list[str]:
    """A list of test ids, or SWE-bench's own form: that list encoded as a JSON string."""
    if value is None:
        raise MalformedTask(path, "instance.json", f"{key} is missing")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise MalformedTask(
                path, "instance.json", f"{key} is a string that is not a JSON list of test ids"
            ) from None
    return strings(value, path, "instance.json", key)


async def prepare(
    attempt: Attempt, task: SweTask, with_solution: bool
) -> tuple[Workspace, Reference | None]:
    reference = None
    if with_solution:
        if not task.patch:
            raise MalformedTask(task.path, "instance.json", "has no patch (the oracle needs it)")
        reference = Reference(patch=task.patch)
    workdir = attempt.root / "work"
    await asyncio.to_thread(shutil.copytree, task.repo, workdir, symlinks=True)
    sandbox = attempt.sandbox()
    baseline = await Baseline.take(sandbox, workdir, attempt.limits)
    if baseline.unavailable:
        raise InfraError(f"could not record the repository's state: {baseline.unavailable}")
    return Workspace(
        workdir, str(workdir), sandbox, sandbox.name, state={"baseline": baseline}
    ), reference


async def verify(attempt: Attempt, task: SweTask, ws: Workspace) -> Verdict:
    try:
        patch = (await ws.state["baseline"].patch()).decode("utf-8", "replace")
    except ToolError as exc:
        raise InfraError(f"could not take the agent's patch: {exc}") from None
    prediction = {"instance_id": task.instance_id, "model_patch": patch}
    folder = attempt.root / "verify"
    await asyncio.to_thread(shutil.copytree, task.repo, folder, symlinks=True)
    sandbox = attempt.sandbox()
    limits = attempt.limits_for(task.verifier_timeout_s)
    for name, text in (("the agent's patch", patch), ("test_patch", task.test_patch)):
        if name == "test_patch":
            await asyncio.to_thread(restore, task.repo, folder, touched(task.test_patch))
        problem = await git_apply(sandbox, folder, text, limits)
        if problem:
            return Verdict(
                False,
                notes=[f"{name} does not apply: {tail(problem, 500)}"],
                log=problem,
                prediction=prediction,
            )
    ids = task.fail_to_pass + task.pass_to_pass
    report = await run_tests(sandbox, folder, task.test_cmd, ids, task.verifier_timeout_s, limits)
    outcomes = {case.id: case.outcome for case in report.cases}
    lines = [f"{outcomes.get(i, 'not run')}: {i}" for i in ids]
    log = "\n".join([*lines, "", report.render()])
    if report.timed_out:
        return Verdict(
            False,
            log=log,
            prediction=prediction,
            error=f"the tests ran past the verifier's timeout ({task.verifier_timeout_s:g} s)",
        )
    failing = [i for i in ids if outcomes.get(i) != "passed"]
    notes = (
        [
            f"{len(failing)} of {len(ids)} tests did not pass, e.g. {failing[0]} "
            f"({outcomes.get(failing[0], 'not run')})"
        ]
        if failing
        else []
    )
    return Verdict(not failing, notes=notes, log=log, prediction=prediction)


def touched(patch: str) -> list[str]:
    """The files a patch changes (relative paths inside the repository)."""
    try:
        files = parse_patch(patch)
    except PatchError:
        return []
    paths = {p for f in files for p in (f.old_path, f.new_path) if p}
    return sorted(p for p in paths if not p.startswith("/") and ".." not in PurePosixPath(p).parts)


def restore(repo: Path, folder: Path, paths: list[str]) -> None:
    """Put `paths` back as they are in `repo` (removed where it has none), as SWE-bench resets
    the test files before it applies test_patch: the agent's changes to them do not count."""
    inside = folder.resolve()
    for rel in paths:
        original, current = repo / rel, folder / rel
        if not current.parent.resolve().is_relative_to(inside):
            continue  # a folder the agent made a link out of: never followed (git apply fails)
        if current.is_symlink() or current.is_file():
            current.unlink()
        elif current.is_dir():
            shutil.rmtree(current)
        if original.is_file() or original.is_symlink():
            current.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(original, current, follow_symlinks=False)


async def git_apply(
    sandbox: Sandbox, folder: Path, patch: str, limits: SandboxLimits | None = None
) -> str | None:
    """Apply a patch to `folder` with git in the sandbox; None, or why it did not apply. Git
    looks for no repository above the folder (GIT_CEILING_DIRECTORIES)."""
    if not patch.strip():
        return None
    result = await sandbox.exec(
        ["git", "apply", "--whitespace=nowarn", "-"],
        workdir=folder,
        env={"GIT_CEILING_DIRECTORIES": str(folder.parent), "GIT_CONFIG_NOSYSTEM": "1"},
        stdin=patch if patch.endswith("\n") else patch + "\n",
        timeout_s=300,
        limits=limits,
    )
    if result.exit_code == 0:
        return None
    check_sandbox(result, sandbox.name, "git apply")
    return (
        result.stderr.strip()
        or result.stdout.strip()
        or f"git apply failed (exit code {result.exit_code})"
    )


async def run_tests(
    sandbox: Sandbox,
    folder: Path,
    test_cmd: str,
    ids: list[str],
    timeout_s: float,
    limits: SandboxLimits,
) -> runner.TestReport:
    """The tests `ids` run with `test_cmd`, read from their JUnit XML report by the SWE kit's
    runner script (the report behind a fresh separator) and parser."""
    quoted = " ".join(shlex.quote(i) for i in ids)
    shell = shlex.quote(PYTHON + test_cmd + ' "$@"')
    if "pytest" in test_cmd:
        cmd = f'sh -c {shell} sh {PYTEST_ARGS} --junitxml="$dir/report" {quoted} >&2'
    else:
        cmd = f'env JUNIT_XML="$dir/report" sh -c {shell} sh {quoted} >&2'
    result, sep = await runner.run_reporting(sandbox, folder, cmd, timeout_s, limits)
    check_sandbox(result, sandbox.name, "the tests")
    return runner.parse("pytest", test_cmd, result, sep, folder, selected=True)
