"""Damaged or unusable state (a store that is garbage or truncated, a read-only home, a home that
is a file) is one clear error from every command, exit status 2, and nothing recorded is
overwritten."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from opensage.cli import app
from opensage.core.events import EventLog
from opensage.memory.store import SqliteMemoryStore
from opensage.models import tool_call
from opensage.sandbox.bwrap import find_bwrap
from opensage.synthesis.library import ToolLibrary
from opensage.topology.library import AgentLibrary

LIST = {
    "events.db": ["runs", "list"],
    "memory.db": ["memory", "search", "x"],
    "tools.db": ["tools", "list"],
    "agents.db": ["agents", "list"],
}
OPENERS = {
    "events.db": EventLog,
    "memory.db": SqliteMemoryStore,
    "tools.db": ToolLibrary,
    "agents.db": AgentLibrary,
}


def said(result):
    """What the command wrote to stderr, as one line however the terminal wrapped it."""
    return " ".join(result.stderr.split())


@pytest.fixture
def run_args(tmp_path):
    script = tmp_path / "script.json"
    script.write_text(json.dumps([tool_call("finish", answer="ok")]))
    return ["run", "hi", "--model", f"scripted:{script}"]  # with every kit: every store


@pytest.fixture
def quiet_home(home):
    home.mkdir()
    (home / "opensage.toml").write_text('[memory]\nembedder = "none"\n')  # no model to load
    return home


def damage(path, how):
    if how == "garbage":
        path.write_bytes(b"not a database, " * 400)
        return
    OPENERS[path.name](path).close()
    intact = path.read_bytes()
    assert len(intact) >= 3 * 4096 and not path.with_name(path.name + "-wal").exists()
    path.write_bytes(intact[: len(intact) // 2 // 4096 * 4096])


@pytest.mark.parametrize("how", ["garbage", "truncated"])
@pytest.mark.parametrize("name", list(LIST))
@pytest.mark.parametrize("command", ["run", "list"])
def test_a_damaged_store_is_one_clear_error_and_is_left_as_it_was(
    quiet_home, run_args, name, how, command
):
    path = quiet_home / name
    damage(path, how)
    before = path.read_bytes()
    res = CliRunner().invoke(app, run_args if command == "run" else LIST[name])
    assert res.exit_code == 2, res.output
    assert said(res).startswith(f"error: {path} is damaged (")
    assert f"it was left untouched. Move it aside to start a new one (mv {path} " in said(res)
    assert "Traceback" not in res.output
    assert path.read_bytes() == before


@pytest.mark.parametrize("command", ["run", *LIST, "trust"])
def test_a_home_that_is_a_file_is_one_clear_error(home, tmp_path, run_args, command):
    home.write_text("my notes")
    (tmp_path / "opensage.toml").write_text("")
    args = {"run": run_args, "trust": ["config", "trust"]}.get(command) or LIST[command]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    assert said(res) == (
        f"error: {home} is a file, but OpenSage keeps its state in a folder "
        "there: move the file away, or set OPENSAGE_HOME to a folder"
    )
    assert home.read_text() == "my notes"


@pytest.mark.skipif(find_bwrap() is None, reason="needs bwrap to mount the home read-only")
@pytest.mark.parametrize("command", ["run", *LIST, "trust"])
@pytest.mark.parametrize("missing", [False, True], ids=["home", "missing home"])
def test_a_read_only_home_is_one_clear_error(tmp_path, run_args, command, missing):
    """Read-only for root too: a read-only mount (root passes permission bits)."""
    mount = tmp_path / "mount"
    mount.mkdir()
    home = mount / "new" if missing else mount
    (tmp_path / "opensage.toml").write_text("")  # for trust
    args = {"run": run_args, "trust": ["config", "trust"]}.get(command) or LIST[command]
    env = {**os.environ, "OPENSAGE_HOME": str(home)}
    done = subprocess.run(
        [
            str(find_bwrap()),
            "--dev-bind",
            "/",
            "/",
            "--ro-bind",
            str(mount),
            str(mount),
            sys.executable,
            "-m",
            "opensage.cli",
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    said = " ".join(done.stderr.split())
    assert done.returncode == 2, done.stderr
    if missing:
        assert said.startswith(
            f"error: cannot create {home} (Read-only file system): make "
            "its parent writable, or set OPENSAGE_HOME to a folder you "
        )
    else:
        assert said.startswith(f"error: cannot write {home}/")
        assert said.endswith(
            f"make {home} writable, or set OPENSAGE_HOME to a folder you can write"
        )
    assert "Traceback" not in done.stderr


def test_a_damaged_trust_list_is_a_clear_error_and_is_not_rewritten(home, tmp_path):
    home.mkdir()
    (home / "trusted.json").write_text("{not json")
    (tmp_path / "opensage.toml").write_text('[sandbox]\nbackend = "local"\n')
    for args in (["config", "trust"], ["runs", "list"]):
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2, res.output
        assert said(res).startswith(f"error: {home / 'trusted.json'} cannot be read (")
    assert (home / "trusted.json").read_text() == "{not json"


def test_an_intact_store_in_use_by_another_process_is_not_called_truncated(home):
    """A WAL with content may hold pages the file does not have yet: that is not damage."""
    home.mkdir()
    writer = EventLog(home / "events.db")
    for i in range(200):
        writer.emit(f"run-{i}", "run_started", {"task": "x" * 2000})
    writer.commit()
    try:
        assert os.path.getsize(home / "events.db-wal") > 0
        reader = EventLog(home / "events.db")
        assert len(reader.runs(500)) == 200
        reader.close()
    finally:
        writer.close()
