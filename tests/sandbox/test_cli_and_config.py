import json

import pytest
from typer.testing import CliRunner

from opensage.cli import app
from opensage.config import load_config
from opensage.core.events import EventLog
from opensage.errors import ConfigError
from opensage.sandbox import SandboxLimits

runner = CliRunner()


def sandbox_exec(*args):
    return runner.invoke(app, ["sandbox", "exec", *args])


def test_exit_code_is_the_commands(tmp_path):
    r = sandbox_exec("--workdir", str(tmp_path), "--", "sh", "-c", "echo out; exit 7")
    assert r.exit_code == 7 and r.stdout == "out\n"


def test_timeout_exits_124(tmp_path):
    r = sandbox_exec("--workdir", str(tmp_path), "--timeout", "0.5", "--", "sleep", "10")
    assert r.exit_code == 124 and "timed out after 0.5 s" in r.stderr


def test_network_flag_and_memory_limit(tmp_path):
    probe = "python3 -c 'import socket; print(len(socket.if_nameindex()))'"
    closed = sandbox_exec("--workdir", str(tmp_path), "--", "sh", "-c", probe)
    opened = sandbox_exec("--workdir", str(tmp_path), "--network", "--", "sh", "-c", probe)
    assert closed.stdout == "1\n"  # loopback only
    assert int(opened.stdout) >= 1
    big = sandbox_exec(
        "--workdir",
        str(tmp_path),
        "--memory-mb",
        "200",
        "--",
        "python3",
        "-c",
        "x = bytearray(400 * 1024 * 1024)",
    )
    assert big.exit_code == 1 and "stopped by the memory limit" in big.stderr


def test_an_unavailable_backend_is_a_clear_error(tmp_path):
    r = sandbox_exec("--backend", "vm", "--", "true")
    assert r.exit_code == 2 and "unknown sandbox backend 'vm'" in r.stderr
    assert "Traceback" not in r.output


def test_sandbox_configuration(home, tmp_path):
    home.mkdir()  # the user's own file: a project's may not choose or loosen the sandbox
    (home / "opensage.toml").write_text(
        '[sandbox]\nbackend = "local"\nimage = "img:1"\n'
        "[sandbox.limits]\nmemory_mb = 256\nnetwork = true\n"
    )
    config = load_config()
    assert (config.sandbox_backend, config.sandbox_image) == ("local", "img:1")
    assert config.sandbox_limits == SandboxLimits(memory_mb=256, network=True)
    (tmp_path / "opensage.toml").write_text("[sandbox.limits]\nram = 1\n")
    with pytest.raises(ConfigError, match=r"sandbox.limits: unknown setting ram"):
        load_config()


def test_an_agent_runs_its_commands_in_the_sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-host-key-789")
    work = tmp_path / "work"
    work.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("HOST-ONLY")
    script = tmp_path / "s.json"
    command = f"echo made > made.txt; env; cat {secret}; exit 4"
    script.write_text(
        json.dumps(
            [
                {"tool_calls": [{"name": "run_command", "arguments": {"command": command}}]},
                {"tool_calls": [{"name": "finish", "arguments": {"answer": "done"}}]},
            ]
        )
    )
    r = runner.invoke(
        app,
        [
            "run",
            "go",
            "--model",
            f"scripted:{script}",
            "--workdir",
            str(work),
            "--sandbox",
            "bwrap",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    run_id = json.loads(r.stdout)["run_id"]
    log = EventLog.open(load_config().events_path)
    first_result = log.events(run_id, ("tool_result",))[0]
    seen = log.messages_by_event(run_id)[first_result.id].content
    assert seen.startswith("exit code 4") and "PATH=" in seen
    assert "sk-host-key-789" not in seen and "HOST-ONLY" not in seen
    assert (work / "made.txt").read_text() == "made\n"
    assert log.events(run_id, ("run_started",))[0].data["agent"]["sandbox"] == "bwrap"
