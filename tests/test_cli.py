import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from opensage import cli
from opensage.cli import app
from opensage.models import tool_call
from opensage.models.base import Message, ToolCall

runner = CliRunner()


@pytest.fixture
def script(tmp_path):
    def write(*steps):
        path = tmp_path / "script.json"
        path.write_text(json.dumps(list(steps)))
        return f"scripted:{path}"

    return write


def invoke(*args):
    return runner.invoke(app, list(args))


def test_run_json_prints_the_contract_fields(script, tmp_path):
    spec = script(
        tool_call("write_file", path="out.txt", content="hi"),
        tool_call("finish", answer="wrote it"),
    )
    res = invoke("run", "write a file", "--model", spec, "--workdir", str(tmp_path), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {"answer", "run_id", "stop_reason", "usage"} <= set(data)
    assert (data["answer"], data["stop_reason"], data["steps"]) == ("wrote it", "finished", 2)
    assert data["usage"]["requests"] == 2
    assert (tmp_path / "out.txt").read_text() == "hi"


def test_limits_from_flags_stop_the_run_with_a_nonzero_exit(script):
    spec = script(*[tool_call("list_files")] * 5)
    res = invoke("run", "loop", "--model", spec, "--max-steps", "2", "--json")
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert data["stop_reason"] == "max_steps" and data["steps"] == 2


def test_a_bad_model_spec_is_a_clear_error_not_a_traceback():
    res = invoke("run", "x", "--model", "gpt-4o")
    assert res.exit_code == 2
    assert "unknown model provider 'gpt-4o'" in res.output
    assert "Traceback" not in res.output


def test_runs_list_and_show(script):
    spec = script(
        tool_call("write_file", path="a.txt", content="x"), tool_call("finish", answer="done")
    )
    run_id = json.loads(invoke("run", "task one", "--model", spec, "--json").stdout)["run_id"]

    listed = json.loads(invoke("runs", "list", "--json").stdout)
    assert [(r["run_id"], r["status"], r["task"]) for r in listed] == [
        (run_id, "finished", "task one")
    ]

    tree = json.loads(invoke("runs", "show", run_id, "--json").stdout)
    assert tree["kind"] == "run_started"
    agent = tree["children"][0]
    assert agent["kind"] == "agent_started"
    kinds = [c["kind"] for c in agent["children"]]
    assert kinds == ["model_request", "model_request", "agent_finished"]
    response = agent["children"][0]["children"][0]
    assert response["message"]["tool_calls"][0]["name"] == "write_file"

    text = invoke("runs", "show", run_id[:10]).stdout
    assert "step 1" in text and "write_file" in text and "answer: done" in text

    missing = invoke("runs", "show", "no-such-run")
    assert missing.exit_code == 2 and "no single run matches" in missing.output


def test_the_console_script_is_installed(script):
    opensage = Path(sys.executable).parent / "opensage"  # installed beside the interpreter
    out = subprocess.run(
        [str(opensage), "run", "hi", "--model", script("plain answer"), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["answer"] == "plain answer"


def test_runs_show_gives_each_call_its_own_arguments_when_the_model_reused_an_id(log, monkeypatch):
    # Replies are given fresh ids now, but runs recorded before that keep their repeated ones.
    monkeypatch.setattr(cli.out, "_width", 200)
    run_id = "20260101-120000-abcdef"
    root = log.emit(run_id, "run_started", {"task": "write two files"})
    conv = log.emit(run_id, "agent_started", {"name": "root", "model": "m"}, parent=root)
    request = log.emit(run_id, "model_request", {"step": 1}, parent=conv)
    usage = {"total_tokens": 10, "cost_usd": 0.0}
    response = log.emit(run_id, "model_response", {"step": 1, "usage": usage}, parent=request)
    calls = tuple(
        ToolCall("call_1", "write_file", json.dumps({"path": name}))
        for name in ("first.txt", "second.txt")
    )
    log.add_message(run_id, conv, 0, Message("assistant", "", tool_calls=calls), response)
    for call in calls:
        event = log.emit(
            run_id, "tool_call", {"call_id": call.id, "name": call.name}, parent=response
        )
        log.emit(
            run_id,
            "tool_result",
            {"call_id": call.id, "name": call.name, "ok": True, "error": None, "duration_s": 0.001},
            parent=event,
        )
    log.commit()

    shown = invoke("runs", "show", run_id).stdout
    lines = [line for line in shown.splitlines() if "→ write_file" in line]
    assert len(lines) == 2
    assert "first.txt" in lines[0] and "second.txt" in lines[1]


def test_runs_list_never_cuts_the_run_id_on_an_80_column_screen(script, monkeypatch):
    monkeypatch.setattr(cli.out, "_width", 80)
    spec = script(tool_call("finish", answer="done"))
    task = "summarise every file in this directory and its subdirectories " * 3
    run_id = json.loads(invoke("run", task, "--model", spec, "--json").stdout)["run_id"]
    listed = invoke("runs", "list").stdout
    assert run_id in listed
    assert max(len(line) for line in listed.splitlines()) <= 80
