"""Setup mistakes (a work dir that is missing or a file, an unknown sandbox backend or kit) are
refused before the run starts, not found out by every tool call of a run that ends "finished"."""

import json

import pytest
from typer.testing import CliRunner

from opensage import Agent
from opensage.cli import app
from opensage.core.events import EventLog
from opensage.errors import ConfigError
from opensage.models import ScriptedModel, tool_call

STEPS = [tool_call("run_command", command="ls"), tool_call("finish", answer="ok")]


@pytest.fixture
def cases(tmp_path):
    (tmp_path / "a-file").write_text("x")
    return {  # name: (CLI options, Agent arguments, run arguments, what the error says)
        "missing workdir": (
            ["--workdir", str(tmp_path / "nope")],
            {},
            {"workdir": tmp_path / "nope"},
            f"the work dir {tmp_path / 'nope'} does not exist: give an existing folder (--workdir)",
        ),
        "workdir is a file": (
            ["--workdir", str(tmp_path / "a-file")],
            {},
            {"workdir": tmp_path / "a-file"},
            f"the work dir {tmp_path / 'a-file'} is not a folder",
        ),
        "unknown sandbox": (
            ["--sandbox", "nosuch"],
            {"sandbox": "nosuch"},
            {},
            "unknown sandbox backend 'nosuch'; use one of bwrap, container, local, or auto",
        ),
        "unknown kit": (
            ["--kit", "shell", "--kit", "nosuch"],
            {"kits": ["shell", "nosuch"]},
            {},
            "unknown kit 'nosuch'; known kits: files, memory, security, shell",
        ),
    }


CASES = ["missing workdir", "workdir is a file", "unknown sandbox", "unknown kit"]


@pytest.mark.parametrize("case", CASES)
def test_a_setup_mistake_fails_the_cli_before_the_run(home, tmp_path, cases, case):
    options, _, _, words = cases[case]
    script = tmp_path / "script.json"
    script.write_text(json.dumps(STEPS))
    kits = [] if "--kit" in options else ["--kit", "shell"]
    res = CliRunner().invoke(
        app, ["run", "go", "--model", f"scripted:{script}", "--json", *kits, *options]
    )
    assert res.exit_code == 2, res.output
    assert words in " ".join(res.stderr.split()) and "Traceback" not in res.output
    assert EventLog(home / "events.db").runs() == []  # no run was started


@pytest.mark.parametrize("case", CASES)
def test_a_setup_mistake_fails_the_python_api_before_the_run(home, cases, case):
    _, agent_args, run_args, words = cases[case]
    model = ScriptedModel(STEPS)
    agent = Agent("a", model=model, **{"kits": ["shell"], **agent_args})
    with pytest.raises(ConfigError, match="^" + words.replace("(", r"\(").replace(")", r"\)")):
        agent.run_sync("go", **run_args)
    assert model.requests == []
    assert EventLog(home / "events.db").runs() == []
