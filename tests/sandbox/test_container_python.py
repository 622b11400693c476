"""The container backend shows the Python running OpenSage read-only at its own paths, as bwrap
does (so a tool can run it with OpenSage's packages, atheris among them, where the image has
none), without taking `python3` from the image, covering what the image has, writing through
it, or showing a hidden path through it."""

import asyncio
import sys
from pathlib import Path

import pytest

from opensage.sandbox.container import ContainerSandbox
from tests.sandbox.test_binds import _container_ready

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not _container_ready(), reason="podman or its sandbox image is missing"),
]


def run(box: ContainerSandbox, cmd: str | list[str], workdir: Path):
    return asyncio.run(box.exec(cmd, workdir=workdir, timeout_s=60))


def test_the_host_python_runs_inside_with_its_packages_and_python3_stays_the_images(tmp_path):
    box = ContainerSandbox()
    assert Path(sys.prefix).resolve() in box.read_only
    r = run(box, [sys.executable, "-c", "import atheris, sys; print(sys.prefix)"], tmp_path)
    assert r.exit_code == 0 and r.stdout == f"{sys.prefix}\n", r
    r = run(box, "command -v python3", tmp_path)
    assert r.stdout == "/usr/bin/python3\n", r


def test_a_read_only_path_inside_the_work_dir_stays_read_only(tmp_path):
    shown = tmp_path / "venv"
    shown.mkdir()
    (shown / "site.py").write_text("kept\n")
    box = ContainerSandbox(extra_ro=(shown,), python=False)
    r = run(
        box,
        "cat venv/site.py; echo planted > venv/site.py; echo new > venv/x; echo ok > y",
        tmp_path,
    )
    assert r.stdout == "kept\n" and "Read-only file system" in r.stderr, r
    assert (shown / "site.py").read_text() == "kept\n" and not (shown / "x").exists()
    assert (tmp_path / "y").read_text() == "ok\n"


def test_a_hidden_path_in_a_read_only_one_stays_hidden(tmp_path):
    work, shown = tmp_path / "work", tmp_path / "prefix"
    home = shown / "opensage-home"
    home.mkdir(parents=True)
    work.mkdir()
    (home / "events.db").write_text("SECRET-TASK")
    (shown / "lib.py").write_text("visible\n")
    box = ContainerSandbox(extra_ro=(shown,), hidden=(home,), python=False)
    r = run(box, f"cat {shown}/lib.py; cat {home}/events.db; ls -a {home}", work)
    assert r.stdout.startswith("visible\n") and "SECRET" not in r.stdout, r
    assert "events.db" not in r.stdout


def test_nothing_in_a_hidden_path_nor_what_the_image_has_is_shown(tmp_path):
    home, work = tmp_path / "home", tmp_path / "work"
    inside = home / "venv"
    inside.mkdir(parents=True)
    work.mkdir()
    # /srv is in the image: a host prefix there would cover the image's own folder.
    box = ContainerSandbox(extra_ro=(inside, Path("/srv")), hidden=(home,), python=False)
    assert box.read_only == ()
    r = run(box, f"ls {inside}", work)
    assert r.exit_code != 0, r
