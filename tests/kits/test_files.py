import asyncio
import json
import os

import pytest

from opensage.core.tools import Toolset
from opensage.kits import files
from opensage.kits.files import FilesKit, open_beneath
from opensage.models.base import ToolCall

from ..contexts import run_context


@pytest.fixture
def tools(tmp_path, home):
    work = tmp_path / "work"
    work.mkdir()
    ctx = run_context(work, home)  # kept open while the test runs, so its files stay open
    yield work, Toolset(FilesKit().tools(ctx))
    ctx.log.close()


def call(toolset, name, **args):
    return asyncio.run(toolset.call(ToolCall("c", name, json.dumps(args))))


def test_write_read_and_list(tools):
    work, ts = tools
    assert call(ts, "write_file", path="src/a.py", content="one\ntwo\nthree\n").ok
    assert (work / "src/a.py").read_text() == "one\ntwo\nthree\n"
    assert (
        call(ts, "read_file", path="src/a.py", start_line=2, max_lines=1).text
        == "    2  two\n[... 1 more lines]"
    )
    assert call(ts, "list_files").text == "src/\nsrc/a.py"


def test_paths_outside_the_work_dir_are_refused(tools, tmp_path):
    work, ts = tools
    (tmp_path / "secret.txt").write_text("s3cret")
    (work / "link").symlink_to(tmp_path / "secret.txt")
    for outcome in (
        call(ts, "read_file", path="../secret.txt"),
        call(ts, "read_file", path="link"),
        call(ts, "write_file", path="/tmp/escape.txt", content="x"),
    ):
        assert outcome.error == "exception" and "outside the work directory" in outcome.text
    assert (tmp_path / "secret.txt").read_text() == "s3cret"


def test_hidden_folders_are_not_listed_and_odd_files_not_read(tools):
    work, ts = tools
    (work / ".git" / "objects").mkdir(parents=True)
    (work / ".git" / "HEAD").write_text("ref")
    (work / "src").mkdir()
    (work / "src" / "app.py").write_text("x")
    assert call(ts, "list_files").text == "src/\nsrc/app.py"
    os.mkfifo(work / "pipe")
    fifo = call(ts, "read_file", path="pipe")  # would block forever if opened
    assert fifo.error == "exception" and "not a regular file" in fifo.text


def test_writing_through_a_planted_symlink_is_refused(tools, tmp_path):
    work, ts = tools
    victim = tmp_path / "victim.txt"
    victim.write_text("safe")
    (work / "out.txt").symlink_to(victim)
    outcome = call(ts, "write_file", path="out.txt", content="pwned")
    assert outcome.error == "exception" and victim.read_text() == "safe"


def test_a_folder_swapped_for_a_symlink_after_the_check_is_not_followed(tmp_path):
    root = (tmp_path / "work").resolve()
    (root / "a").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    checked = root / "a" / "f.txt"  # what the path check saw: a folder inside the work dir
    (root / "a").rmdir()
    (root / "a").symlink_to(outside)  # ...swapped by a command running at the same time
    with pytest.raises(PermissionError, match="symlink"):
        open_beneath(root, checked, os.O_WRONLY | os.O_CREAT, make_parents=True)
    assert list(outside.iterdir()) == []


def test_symlinks_that_stay_inside_the_work_dir_still_work(tools):
    work, ts = tools
    (work / "v2").mkdir()
    (work / "v2" / "notes.txt").write_text("hello\n")
    (work / "current").symlink_to("v2")
    assert "hello" in call(ts, "read_file", path="current/notes.txt").text
    assert call(ts, "write_file", path="current/new.txt", content="x").error is None
    assert (work / "v2" / "new.txt").read_text() == "x"
    assert call(ts, "read_file", path=".").error == "exception"  # the work dir is no file


def test_folders_and_fifos_are_refused_without_leaking_or_blocking(tools):
    work, ts = tools
    (work / "src").mkdir()
    os.mkfifo(work / "pipe")
    open_fds = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        outcome = call(ts, "read_file", path="src")
        assert outcome.error == "exception" and "'src' is not a regular file" in outcome.text
    assert len(os.listdir("/proc/self/fd")) == open_fds
    for path in ("pipe", "src"):  # writing to a FIFO with no reader would block forever
        outcome = call(ts, "write_file", path=path, content="x")
        assert outcome.error == "exception" and "not a regular file" in outcome.text
    assert call(ts, "write_file", path="src/a.txt", content="longer text").ok
    assert call(ts, "write_file", path="src/a.txt", content="short").ok  # truncated first
    assert (work / "src" / "a.txt").read_text() == "short"


def test_a_file_swapped_for_a_symlink_after_the_check_is_not_followed(tools, tmp_path, monkeypatch):
    work, ts = tools
    victim = tmp_path / "victim.txt"
    victim.write_text("SECRET")
    checked_open = files.open_beneath

    def swap_then_open(root, target, *args, **kwargs):
        # What a command running at the same time does between the path check and the open.
        target.unlink()
        target.symlink_to(victim)
        return checked_open(root, target, *args, **kwargs)

    monkeypatch.setattr(files, "open_beneath", swap_then_open)
    for name, args in (("write_file", {"content": "pwned"}), ("read_file", {})):
        (work / "notes.txt").unlink(missing_ok=True)
        (work / "notes.txt").write_text("mine")  # a plain file when the path is checked
        outcome = call(ts, name, path="notes.txt", **args)
        assert outcome.error == "exception" and "symlink" in outcome.text, outcome
        assert "SECRET" not in outcome.text
    assert victim.read_text() == "SECRET"
