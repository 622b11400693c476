"""The real bundled models through llama.cpp's server, over HTTP, through the same
OpenAI-compatible adapter hosted models use: the plumbing on SmolLM2-135M (fast), the default
`local` through the CLI. Slow-ish: each test starts the server (~2 s)."""

import asyncio
import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from opensage import Agent, ModelSettings, tool
from opensage.core.events import EventLog
from opensage.models import model_from_spec
from opensage.models.base import Message
from opensage.models.local import LocalServer
from opensage.models.weights import best_installed

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def server_processes(home: Path) -> list[str]:
    """Command lines of the running llama.cpp servers started for this test's OpenSage home
    (read from /proc: no procps needed); other work on the machine may run servers too."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:  # the process ended while we looked
            continue
        if b"llama_cpp.server" in args and f"OPENSAGE_HOME={home}".encode() in environ:
            found.append(b" ".join(args).decode(errors="replace"))
    return found


def test_chat_answer_over_http(home):
    async def scenario():
        model = model_from_spec("local:smollm2")
        try:
            return await model.request(
                [
                    Message("system", "You are a helpful assistant."),
                    Message("user", "What is the capital of France? Answer in one word."),
                ],
                [],
            )
        finally:
            await model.aclose()

    reply = asyncio.run(scenario())
    assert reply.message.content.strip()
    assert reply.usage.input_tokens > 10 and reply.usage.output_tokens > 0
    assert reply.usage.cost_usd == 0 and reply.usage.unpriced == 0  # local is free
    # Its last user gone, the server waits for the next (LocalServer.linger_s): none is left
    # holding it, and this process ending or the linger running out stops it.
    assert all(server.users == 0 for server in LocalServer._shared.values())


def test_forced_tool_call_through_the_agent_loop(home):
    agent = Agent(
        "adder",
        "Use the add tool.",
        model="local:smollm2",
        tools=[add],
        settings=ModelSettings(tool_choice="add", temperature=0),
        max_steps=1,
    )
    result = agent.run_sync("What is 2 plus 3?")
    assert result.stop_reason == "max_steps" and result.steps == 1
    log = EventLog(home / "events.db")
    (call,) = log.events(result.run_id, ("tool_call",))
    (res,) = log.events(result.run_id, ("tool_result",))
    assert call.data["name"] == "add" and res.data["ok"]
    conv = log.events(result.run_id, ("agent_started",))[0].id
    messages = log.conversation(result.run_id, conv)
    args = json.loads(messages[-2].tool_calls[0].arguments)
    assert messages[-1].content == str(args["a"] + args["b"])  # the tool really ran on them


def test_the_readmes_first_command_end_to_end_through_the_cli(home, tmp_path):
    """The Quick start's command, on the default local model: it runs a command in the sandbox
    and answers from its output."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "opensage.cli",
            "run",
            "Run the command uname -sr and say which kernel this machine runs.",
            "--kit",
            "shell",
            "--model",
            "local",
            "--max-steps",
            "4",
            "--workdir",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode in (0, 1), out.stderr
    result = json.loads(out.stdout)
    assert result["stop_reason"] == "finished", result
    assert platform.system() in result["answer"], result
    assert result["usage"]["requests"] >= 2 and result["usage"]["input_tokens"] > 0
    assert result["usage"]["cost_usd"] == 0
    show = subprocess.run(
        [sys.executable, "-m", "opensage.cli", "runs", "show", result["run_id"], "--json"],
        capture_output=True,
        text=True,
    )
    tree = json.loads(show.stdout)
    assert tree["data"]["agent"]["model"] == f"local:{best_installed().name}"
    assert not server_processes(home)  # the CLI stopped the server it started
