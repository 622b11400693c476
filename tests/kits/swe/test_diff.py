"""diff() on small projects the tests write: the patch `git apply` takes on a fresh copy of the
starting tree and that reproduces the final one (a new file, a deleted file, a rename, bytes that
are not UTF-8), without ignored files, without touching the repository, in a git repository and
in a plain folder, in bwrap and (slow) in the container."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from opensage.core.tools import Tool, ToolError
from opensage.kits.swe.diff import Baseline
from opensage.sandbox import Sandbox, open_sandbox

IGNORED_PARTS = {".git", "__pycache__", "build"}


def make_project(root: Path, git: bool) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "core.py").write_text("def answer():\n    return 41\n")
    (root / "stale.txt").write_text("to be deleted\n")
    (root / "docs").mkdir()
    (root / "docs" / "guide.txt").write_text("".join(f"step {k}\n" for k in range(20)))
    (root / "latin1.txt").write_bytes(b"caf\xe9\n")
    (root / ".gitignore").write_text("build/\n")
    if git:  # the test's own repository: git on the host is fine here
        subprocess.run(
            "git init -q && git add -A && git -c user.name=t -c user.email=t@t commit -qm base",
            shell=True,
            cwd=root,
            check=True,
        )
    (root / "notes.txt").write_text("untracked when the run began\n")


def change_project(root: Path) -> None:
    (root / "pkg" / "core.py").write_text("def answer():\n    return 42\n")
    (root / "pkg" / "extra").mkdir()
    (root / "pkg" / "extra" / "new.py").write_text("NEW = True\n")
    (root / "stale.txt").unlink()
    (root / "docs" / "guide.txt").rename(root / "docs" / "manual.txt")
    (root / "latin1.txt").write_bytes(b"caf\xe9 cr\xe8me\n")
    (root / "pkg" / "__pycache__").mkdir()
    (root / "pkg" / "__pycache__" / "core.cpython-311.pyc").write_bytes(b"\x00\x01cache")
    (root / "build").mkdir()
    (root / "build" / "out.o").write_bytes(b"\x7fELF")


def files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not IGNORED_PARTS & set(p.relative_to(root).parts)
    }


async def round_trip(sandbox: Sandbox, tmp_path: Path, git: bool) -> bytes:
    """Take a baseline, change the tree, and check that the patch rebuilds it on a copy of
    the start; returns the patch."""
    work, copy = tmp_path / "work", tmp_path / "copy"
    work.mkdir()
    make_project(work, git)
    baseline = await Baseline.take(sandbox, work)
    assert baseline.unavailable is None
    shutil.copytree(work, copy, symlinks=True)
    change_project(work)
    patch = await baseline.patch()
    applied = await sandbox.exec(
        ["git", "apply", "--whitespace=nowarn", "-"], workdir=copy, stdin=patch
    )
    assert applied.exit_code == 0, applied.stderr
    assert files(copy) == files(work)
    return patch


@pytest.fixture
def bwrap() -> Sandbox:
    return open_sandbox("bwrap")


@pytest.mark.parametrize("git", [True, False], ids=["git-repository", "plain-folder"])
def test_the_patch_applies_to_a_copy_of_the_start_and_rebuilds_the_tree(bwrap, tmp_path, git):
    patch = asyncio.run(round_trip(bwrap, tmp_path, git)).decode("utf-8", "replace")
    assert re.search(
        r"new file mode 100644\nindex 0+\.\.\w+\n--- /dev/null\n"
        r"\+\+\+ b/pkg/extra/new.py\n@@ -0,0 \+1 @@\n\+NEW = True\n",
        patch,
    )
    assert "deleted file mode 100644" in patch and "--- a/stale.txt" in patch
    assert "rename from docs/guide.txt\nrename to docs/manual.txt" in patch
    assert "notes.txt" not in patch  # untracked, but unchanged since the run began
    assert "__pycache__" not in patch and "build/" not in patch


def test_the_repository_is_left_as_it_was(bwrap, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    make_project(work, git=True)
    change_project(work)  # a dirty tree: the index and objects must not change either

    def state() -> tuple[object, ...]:
        git = work / ".git"
        objects = sorted(p.relative_to(git).as_posix() for p in (git / "objects").rglob("*"))
        status = subprocess.run(
            ["git", "status", "--porcelain"], cwd=work, capture_output=True, text=True, check=True
        ).stdout
        return (git / "index").read_bytes(), (git / "HEAD").read_bytes(), objects, status

    before = state()
    baseline = asyncio.run(Baseline.take(bwrap, work))
    (work / "pkg" / "core.py").write_text("def answer():\n    return 43\n")
    assert "+    return 43" in asyncio.run(baseline.diff())
    (work / "pkg" / "core.py").write_text("def answer():\n    return 42\n")
    assert state() == before
    assert asyncio.run(baseline.diff()) == "No changes in the work directory since the run began."


def test_a_plain_folder_gets_no_git_directory_and_python_caches_are_left_out(bwrap, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "app.py").write_text("x = 1\n")
    baseline = asyncio.run(Baseline.take(bwrap, work))
    (work / "app.py").write_text("x = 2\n")
    (work / "__pycache__").mkdir()
    (work / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"\x00cache")
    (work / ".pytest_cache").mkdir()
    (work / ".pytest_cache" / "README.md").write_text("cache")
    patch = asyncio.run(baseline.diff())
    assert patch.startswith("diff --git a/app.py b/app.py\n")
    assert "cache" not in patch
    assert sorted(os.listdir(work)) == [".pytest_cache", "__pycache__", "app.py"]


def test_planted_symlinks_do_not_bring_outside_files_into_the_patch(bwrap, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("s3cret\n")
    work = tmp_path / "work"
    work.mkdir()
    make_project(work, git=True)
    baseline = asyncio.run(Baseline.take(bwrap, work))
    (work / "link.txt").symlink_to(outside / "secret.txt")
    (work / "linkdir").symlink_to(outside)
    patch = asyncio.run(baseline.diff())
    assert "s3cret" not in patch
    assert "new file mode 120000" in patch  # the links themselves, as git records them


def test_the_tool_has_the_contract_name_and_no_arguments(bwrap, tmp_path):
    baseline = Baseline(bwrap, tmp_path, "plain")
    schema = Tool(baseline.diff).schema
    assert schema.name == "diff" and schema.parameters["properties"] == {}


def test_a_baseline_that_could_not_be_taken_makes_diff_say_why(bwrap, tmp_path):
    (tmp_path / ".git").mkdir()  # looks like a repository, is not one
    (tmp_path / ".git" / "objects").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("garbage\n")
    baseline = asyncio.run(Baseline.take(bwrap, tmp_path))
    with pytest.raises(ToolError, match="could not be recorded when the run began"):
        asyncio.run(baseline.diff())


@pytest.mark.slow
def test_the_round_trip_works_in_the_container_backend(container, tmp_path):
    asyncio.run(round_trip(container, tmp_path, git=True))
