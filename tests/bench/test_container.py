"""Terminal tasks whose Dockerfile needs a real build run in the container backend: the image is
built with no network, a base image missing from this machine is replaced by the local sandbox
image (and the results say so), the WORKDIR is the agent's work dir."""

import pytest

from opensage.sandbox.container import DEFAULT_IMAGE
from tests.sandbox.test_binds import _container_ready

from .fixtures import DOCKERFILE, terminal_task
from .helpers import run_bench

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not _container_ready(), reason="podman or its sandbox image is missing"),
]

BUILT = (
    DOCKERFILE.replace("FROM ubuntu:24.04", "FROM {base}")
    + "RUN echo built > /app/built.txt && echo $GREETING > /app/env.txt\n"
)
CHECK = '[ "$(cat /app/built.txt)" = built ] && [ "$(cat /app/env.txt)" = hello ] && '


def _task(root, name, base):
    task = terminal_task(root, name, dockerfile=BUILT.format(base=base))
    test = task / "tests" / "test.sh"
    test.write_text(test.read_text().replace('if [ "$(pwd)"', f'if {CHECK}[ "$(pwd)"'))
    return task


def test_a_task_that_needs_a_build_runs_in_a_container(tmp_path):
    suite = tmp_path / "suite"
    _task(suite, "missing-base", "registry.invalid/nothing-here:1")
    _task(suite, "local-base", f"localhost/{DEFAULT_IMAGE}")
    oracle = {r.task_id: r for r in run_bench(suite, tmp_path / "oracle", "oracle")}
    null = {r.task_id: r for r in run_bench(suite, tmp_path / "null", "null")}
    for name in ("missing-base", "local-base"):
        assert oracle[name].resolved and oracle[name].error is None, oracle[name]
        assert oracle[name].backend == "container" and oracle[name].reward == 1.0
        assert not null[name].resolved and null[name].error is None
        assert any("built: line 7: RUN" in n for n in oracle[name].notes)
    stood_in = [n for n in oracle["missing-base"].notes if "stood in" in n]
    assert stood_in == [
        "base image registry.invalid/nothing-here:1 is not on this machine "
        "(nothing is pulled at run time): the local sandbox image "
        f"{DEFAULT_IMAGE} stood in for it"
    ]
    assert not any("stood in" in n for n in oracle["local-base"].notes)


def test_a_build_that_fails_is_an_infrastructure_error(tmp_path):
    task = terminal_task(tmp_path / "suite", dockerfile=DOCKERFILE + "RUN exit 7\n")
    assert task.exists()
    [result] = run_bench(tmp_path / "suite", tmp_path / "out", "oracle", retries=1)
    assert result.error["kind"] == "infra" and result.retries == 1
    assert "building the task's image failed" in result.error["message"]


def test_swe_and_poc_tasks_run_in_the_container_backend_when_asked(tmp_path):
    from .fixtures import poc_task, swe_task

    suite = tmp_path / "suite"
    swe_task(suite)  # its test_cmd says `python`; the image has only python3
    poc_task(suite)
    oracle = run_bench(suite, tmp_path / "oracle", "oracle", backend="container", parallel=2)
    null = run_bench(suite, tmp_path / "null", "null", backend="container", parallel=2)
    assert [(r.task_id, r.backend, r.resolved, r.error) for r in oracle] == [
        ("calc-1", "container", True, None),
        ("reader", "container", True, None),
    ]
    assert [(r.resolved, r.error) for r in null] == [(False, None), (False, None)]
