"""The Harbor adapter against Harbor's own classes: its agent factory loads OpenSageAgent by import
path, as `harbor run --agent module:Class` does; a real `BaseEnvironment` (local_env.py) runs its
commands; a scripted model drives it. Run by tests/bench/test_harbor.py with the Python that
has Harbor (.venv-harbor); the file name keeps the main test run from collecting it.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from harbor.agents.factory import AgentFactory
from harbor.environments.factory import EnvironmentFactory
from harbor.models.agent.context import AgentContext
from harbor.models.task.config import EnvironmentConfig
from harbor.models.trial.config import AgentConfig
from harbor.models.trial.paths import TrialPaths

from opensage.core.events import EventLog
from opensage.errors import ConfigError
from opensage.integrations.environment import EnvironmentSandbox
from opensage.integrations.harbor import OpenSageAgent, opensage_model
from opensage.sandbox import SandboxLimits

from .local_env import LocalEnvironment

REPO = Path(__file__).resolve().parents[2]
IMPORT_PATH = "opensage.integrations.harbor:OpenSageAgent"
ENV_PATH = "tests.harbor_inner.local_env:LocalEnvironment"


def environment(tmp_path: Path) -> LocalEnvironment:
    paths = TrialPaths(trial_dir=tmp_path / "trial")
    paths.mkdir()
    env = EnvironmentFactory.create_environment_from_import_path(
        ENV_PATH,
        environment_dir=tmp_path,
        environment_name="t",
        session_id="t__env",
        trial_paths=paths,
        task_env_config=EnvironmentConfig(workdir="/app"),
    )
    assert isinstance(env, LocalEnvironment)
    asyncio.run(env.start(force_build=False))
    return env


def script(tmp_path: Path, steps: list[dict[str, Any]]) -> str:
    path = tmp_path / "script.json"
    path.write_text(json.dumps(steps))
    return f"scripted:{path}"


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": name, "arguments": arguments}], "usage": USAGE}


USAGE = {"input_tokens": 100, "output_tokens": 7}

STEPS = [
    call("run_command", command="mkdir -p out && echo hello > out/hello.txt && pwd"),
    call("write_file", path="notes/plan.md", content="first\nsecond\n"),
    call("read_file", path="notes/plan.md", start_line=2),
    call("list_files"),
    call("finish", answer="wrote out/hello.txt"),
]


def test_harbor_loads_the_agent_by_import_path_and_it_works_in_the_environment(
    tmp_path: Path, home: Path
) -> None:
    env = environment(tmp_path)
    agent = AgentFactory.create_agent_from_config(
        AgentConfig(import_path=IMPORT_PATH, model_name=script(tmp_path, STEPS)),
        logs_dir=tmp_path / "trial" / "agent",
    )
    assert isinstance(agent, OpenSageAgent)
    assert agent.name() == "opensage" and agent.version()
    context = AgentContext()
    asyncio.run(agent.setup(env))
    asyncio.run(agent.run("write hello", env, context))

    # The files are in the environment (its /app), not on the host.
    assert (env.root / "app/out/hello.txt").read_text() == "hello\n"
    assert (env.root / "app/notes/plan.md").read_text() == "first\nsecond\n"
    assert context.n_input_tokens == 5 * USAGE["input_tokens"]
    assert context.n_output_tokens == 5 * USAGE["output_tokens"]
    assert context.cost_usd == 0.0
    assert context.model_usage and sum(u.n_input_tokens for u in context.model_usage.values())
    assert context.metadata and context.metadata["stop_reason"] == "finished"
    assert context.metadata["answer"] == "wrote out/hello.txt"

    # What the tools answered: the command ran in /app; the file tools saw the environment.
    messages = EventLog(home / "events.db").messages_by_event(context.metadata["opensage_run_id"])
    text = [str(m.content) for _, m in sorted(messages.items()) if m.role == "tool"]
    assert "exit code 0" in text[0] and "/app" in text[0]
    assert "wrote 13 characters to notes/plan.md" in text[1]
    assert "2  second" in text[2] and "first" not in text[2]
    assert all(f in text[3] for f in ("notes/", "notes/plan.md", "out/", "out/hello.txt"))


def test_the_context_counts_tokens_of_a_run_that_fails(tmp_path: Path) -> None:
    """A run that ends early (here the script runs out) still reports what it spent."""
    env = environment(tmp_path)
    agent = OpenSageAgent(tmp_path / "logs", model_name=script(tmp_path, STEPS[:1]))
    context = AgentContext()
    asyncio.run(agent.run("go", env, context))
    assert context.n_input_tokens == USAGE["input_tokens"]
    assert context.metadata and context.metadata["stop_reason"] == "model_error"


def test_model_names() -> None:
    assert opensage_model("openai/gpt-4o") == "openai:gpt-4o"
    assert opensage_model("anthropic/claude-sonnet-4-5") == "anthropic:claude-sonnet-4-5"
    assert opensage_model("openai/org/model") == "openai:org/model"
    assert opensage_model("local:qwen-0.5b") == "local:qwen-0.5b"
    assert opensage_model("scripted:/a/b.json") == "scripted:/a/b.json"
    assert opensage_model("myprofile") == "myprofile"
    assert opensage_model(None) is None
    with pytest.raises(ConfigError, match="OPENAI_BASE_URL"):
        opensage_model("gemini/gemini-2.5-pro")


def test_kits_that_act_on_host_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="act on files of the host"):
        OpenSageAgent(tmp_path, model_name="openai/gpt-4o", kits=["shell", "swe"])


def sandbox(tmp_path: Path) -> tuple[EnvironmentSandbox, Path]:
    anchor = tmp_path / "anchor"
    (anchor / "sub").mkdir(parents=True)
    return EnvironmentSandbox(environment(tmp_path), anchor=anchor, cwd="/app"), anchor


def test_sandbox_exec_maps_the_work_dir_and_passes_stdin_and_env(tmp_path: Path) -> None:
    sb, anchor = sandbox(tmp_path)
    (sb.environment.root / "app/sub").mkdir()  # type: ignore[attr-defined]

    async def go() -> None:
        r = await sb.exec("pwd; cat; echo $X", workdir=anchor / "sub", stdin="in\n", env={"X": "1"})
        assert (r.exit_code, r.stdout) == (0, "/app/sub\nin\n1\n")
        r = await sb.exec(["sh", "-c", "echo oops >&2; exit 3"], workdir=anchor)
        assert (r.exit_code, r.stderr, r.ok) == (3, "oops\n", False)
        r = await sb.exec("seq 1 100000", workdir=anchor, limits=SandboxLimits(output_bytes=200))
        assert r.stdout_truncated and r.stdout.startswith("1\n2\n") and "bytes cut" in r.stdout
        with pytest.raises(ValueError, match="only run in"):
            await sb.exec("true", workdir=tmp_path)

    asyncio.run(go())
    assert not list((sb.environment.root / "tmp").iterdir())  # type: ignore[attr-defined]


def test_sandbox_timeout_and_background_commands(tmp_path: Path) -> None:
    sb, anchor = sandbox(tmp_path)

    async def go() -> None:
        started = time.monotonic()
        r = await sb.exec("sleep 20", workdir=anchor, timeout_s=1)
        assert r.timed_out and not r.ok and time.monotonic() - started < 10

        done = await sb.start("echo started; echo $0", workdir=anchor)
        r = await done.wait(10)
        assert (r.exit_code, r.stdout) == (0, "started\nsh\n")
        assert await done.read() == ("started\nsh\n", "")

        slow = await sb.start("sleep 30; echo late", workdir=anchor)
        await asyncio.sleep(0.5)
        assert slow.running
        started = time.monotonic()
        r = await slow.kill()
        assert not slow.running and "late" not in r.stdout and r.exit_code != 0
        assert time.monotonic() - started < 10

    asyncio.run(go())


TASK_TOML = """\
version = "1.0"

[agent]
timeout_sec = 120

[verifier]
timeout_sec = 60

[environment]
workdir = "/app"
"""

TEST_SH = """\
#!/bin/bash
if [ "$(cat /app/answer.txt)" = "42" ]; then echo 1 > /logs/verifier/reward.txt
else echo 0 > /logs/verifier/reward.txt; fi
"""


@pytest.mark.slow
def test_harbor_run_end_to_end(tmp_path: Path) -> None:
    """`harbor run` itself: a Terminal-Bench-layout task, the agent by import path, the local
    environment by import path; Harbor's verifier grades what the agent left."""
    task = tmp_path / "answer-task"
    (task / "environment").mkdir(parents=True)
    (task / "tests").mkdir()
    (task / "solution").mkdir()
    (task / "task.toml").write_text(TASK_TOML)
    (task / "instruction.md").write_text("Write 42 to /app/answer.txt.\n")
    (task / "environment/Dockerfile").write_text("FROM debian:bookworm-slim\nWORKDIR /app\n")
    (task / "tests/test.sh").write_text(TEST_SH)
    (task / "solution/solve.sh").write_text("#!/bin/bash\necho 42 > /app/answer.txt\n")
    model = script(
        tmp_path,
        [call("write_file", path="answer.txt", content="42\n"), call("finish", answer="done")],
    )
    jobs = tmp_path / "jobs"
    harbor = Path(sys.executable).parent / "harbor"
    arguments = ["-p", str(task), "--agent", IMPORT_PATH, "--env", ENV_PATH, "-m", model]
    run = subprocess.run(
        [str(harbor), "run", *arguments, "-o", str(jobs), "--job-name", "e2e", "-q"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = list((jobs / "e2e").glob("*/result.json"))
    assert len(results) == 1, run.stdout[-3000:]
    result = json.loads(results[0].read_text())
    assert result["verifier_result"]["rewards"]["reward"] == 1.0, result
    assert result["agent_result"]["n_input_tokens"] == 2 * USAGE["input_tokens"]
