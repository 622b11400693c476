import asyncio
import json
import os

import pytest

from opensage.core.tools import Toolset
from opensage.kits import KitContext
from opensage.kits.files import files_kit
from opensage.models.base import ToolCall
from opensage.sandbox import open_sandbox


@pytest.fixture
def tools(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    return work, Toolset(files_kit(KitContext(work, open_sandbox=open_sandbox)))


def call(toolset, name, **args):
    return asyncio.run(toolset.call(ToolCall("c", name, json.dumps(args))))


def test_write_read_and_list(tools):
    work, ts = tools
    assert call(ts, "write_file", path="src/a.py", content="one\ntwo\nthree\n").ok
    assert (work / "src/a.py").read_text() == "one\ntwo\nthree\n"
    assert call(ts, "read_file", path="src/a.py", start_line=2, max_lines=1).text == \
        "    2  two\n[... 1 more lines]"
    assert call(ts, "list_files").text == "src/\nsrc/a.py"


def test_paths_outside_the_work_dir_are_refused(tools, tmp_path):
    work, ts = tools
    (tmp_path / "secret.txt").write_text("s3cret")
    (work / "link").symlink_to(tmp_path / "secret.txt")
    for outcome in (call(ts, "read_file", path="../secret.txt"),
                    call(ts, "read_file", path="link"),
                    call(ts, "write_file", path="/tmp/escape.txt", content="x")):
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
