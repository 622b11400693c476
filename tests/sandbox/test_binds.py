"""Binds: host paths shown at other paths inside a sandbox (a task's /app, /tests, /logs),
read-only unless writable, on every backend that has a mount namespace."""

import asyncio
import shutil
import subprocess

import pytest

from opensage.sandbox import Bind, SandboxUnavailable, open_sandbox
from opensage.sandbox.container import DEFAULT_IMAGE


def _container_ready() -> bool:
    podman = shutil.which("podman")
    return (
        bool(podman)
        and subprocess.run(
            [podman, "image", "exists", DEFAULT_IMAGE], capture_output=True
        ).returncode
        == 0
    )


BACKENDS = [
    "bwrap",
    pytest.param(
        "container",
        marks=[
            pytest.mark.slow,
            pytest.mark.skipif(
                not _container_ready(), reason="podman or its sandbox image is missing"
            ),
        ],
    ),
]


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def task(tmp_path):
    app, tests, logs = tmp_path / "app", tmp_path / "tests", tmp_path / "logs"
    for d in (app, tests, logs):
        d.mkdir()
    (app / "main.txt").write_text("in app\n")
    (tests / "test.sh").write_text("echo from tests\n")
    return app, tests, logs


@pytest.mark.parametrize("backend", BACKENDS)
def test_binds_show_host_paths_read_only_or_writable(backend, task):
    app, tests, logs = task
    sandbox = open_sandbox(
        backend,
        binds=[
            Bind(app, "/app", writable=True),
            Bind(tests, "/tests"),
            Bind(logs, "/logs", writable=True),
        ],
    )
    r = run(
        sandbox.exec(
            "pwd; cat main.txt; sh /tests/test.sh; echo 1 > /logs/reward.txt; echo new > made.txt; "
            "echo x > /tests/planted 2>/dev/null || echo refused",
            workdir=app,
            timeout_s=60,
        )
    )
    assert r.exit_code == 0, r.stderr
    # The work dir is the source of /app: commands start there and see it as /app.
    assert r.stdout.splitlines() == ["/app", "in app", "from tests", "refused"]
    assert (logs / "reward.txt").read_text() == "1\n"
    assert (app / "made.txt").read_text() == "new\n"
    assert not (tests / "planted").exists()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_command_elsewhere_starts_in_its_work_dir(backend, task, tmp_path):
    _, tests, _ = task
    other = tmp_path / "other"
    other.mkdir()
    sandbox = open_sandbox(backend, binds=[Bind(tests, "/tests")])
    r = run(sandbox.exec("pwd; ls /tests", workdir=other, timeout_s=60))
    assert r.stdout.splitlines() == [str(other), "test.sh"]


def test_a_bind_may_not_reveal_opensage_home(tmp_path, home):
    home.mkdir(parents=True, exist_ok=True)
    (home / "events.db").write_text("secret")
    for source in (home, tmp_path):  # the home itself, and a folder holding it
        with pytest.raises(PermissionError, match="OpenSage's home"):
            open_sandbox("bwrap", hidden=[home], binds=[Bind(source, "/data")])


@pytest.mark.parametrize("target", ["/usr/local/app", "/etc/app", "/", "/proc/x", "/tmp/app"])
def test_a_bind_may_not_cover_the_system(tmp_path, target):
    with pytest.raises(ValueError, match="system folder"):
        open_sandbox("bwrap", binds=[Bind(tmp_path, target)])


def test_targets_are_absolute_and_given_once(tmp_path):
    with pytest.raises(ValueError, match="absolute"):
        open_sandbox("bwrap", binds=[Bind(tmp_path, "app")])
    with pytest.raises(ValueError, match="absolute"):
        open_sandbox("bwrap", binds=[Bind(tmp_path, "/app/../usr")])
    with pytest.raises(ValueError, match="twice|once"):
        open_sandbox("bwrap", binds=[Bind(tmp_path, "/app"), Bind(tmp_path, "/app")])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        open_sandbox("bwrap", binds=[Bind(tmp_path / "gone", "/app")])


def test_the_local_backend_refuses_binds(tmp_path):
    with pytest.raises(SandboxUnavailable, match="local backend cannot"):
        open_sandbox("local", binds=[Bind(tmp_path, "/app")])


def test_bwrap_shows_no_read_only_path_that_lies_in_opensage_home(tmp_path, home):
    from opensage.sandbox.bwrap import BwrapSandbox

    inside, work = home / "venv", tmp_path / "work"
    inside.mkdir(parents=True)
    work.mkdir()
    (inside / "secret.txt").write_text("SECRET")
    box = BwrapSandbox(extra_ro=(inside, tmp_path / "shown"), hidden=(home,), python=False)
    assert box.read_only == (tmp_path / "shown",)
    r = run(box.exec(f"cat {inside}/secret.txt", workdir=work, timeout_s=60))
    assert "SECRET" not in r.stdout and r.exit_code != 0, r
