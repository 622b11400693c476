"""Runs that make each kind of model call outside an agent's conversation (a side request: a
compaction summary, an ensemble's judge, the end-of-run curation) or in a sub-agent's (the
memory agent), for the tests of what they cost. Every reply is computed from what the model is
sent, with a price and a usage that depend on it, so that a run made again, or resumed, asks
and spends the same.

Run as a program (`python -m tests.core.side_calls KIND WORKDIR DELAY_S`), it makes one run,
with its root's first request after the side call held for DELAY_S: a test kills it there.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from opensage import Agent
from opensage.memory.agent import instructions
from opensage.models.base import Message
from opensage.models.scripted import FunctionModel
from opensage.topology.team import JUDGE

KINDS = ("compaction", "ensemble_judge", "curation", "memory_agent")
FILLER = "lorem ipsum dolor sit amet " * 80  # ~2,000 characters a file


def _prompt(name: str) -> str:
    return (resources.files("opensage") / "prompts" / name).read_text()


SUMMARIZER, CURATOR, MEMORY = _prompt("compaction.md"), _prompt("curator.md"), instructions()


def call(tool: str, **arguments: Any) -> dict[str, Any]:
    return {"tool_calls": [{"name": tool, "arguments": arguments}]}


def priced(reply: Callable[[list[Message]], Any]) -> FunctionModel:
    """A model answering `reply(messages)`, each reply with a usage of what it was sent and
    said (about 4 characters a token), at $3 and $15 per million tokens."""

    def usage_added(messages: list[Message], tools: Any) -> dict[str, Any]:
        step = reply(list(messages))
        step = {"text": step} if isinstance(step, str) else step
        sent = sum(len(m.content) + len(json.dumps(m.to_dict())) for m in messages)
        return {
            **step,
            "usage": {"input_tokens": sent // 4, "output_tokens": len(json.dumps(step)) // 4 + 1},
        }

    model = FunctionModel(usage_added)
    model.price = (3.0, 15.0)
    return model


def replies(messages: list[Message]) -> int:
    return sum(m.role == "assistant" for m in messages)


def last_result(messages: list[Message]) -> str:
    return next(m for m in reversed(messages) if m.role == "tool").content


def prepare(kind: str, workdir: Path) -> None:
    """The work dir a run of `kind` expects."""
    if kind == "compaction":
        for i in range(6):
            (workdir / f"f{i}.txt").write_text(f"{FILLER}\nNOTE{i}=value{i}\n{FILLER}")
    if kind == "curation":
        (workdir / "settings.yml").write_text("key: value\n")


def config(kind: str) -> str:
    """The home's opensage.toml for a run of `kind` (no embedding model to load)."""
    curate = "true" if kind == "curation" else "false"
    return f'[memory]\nembedder = "none"\ncurate = {curate}\n'


def agent(kind: str, delay_s: float = 0.0) -> Agent:
    """The agent of a run of `kind`; its root's first request after the side call is held
    `delay_s` seconds."""
    if kind == "compaction":
        return Agent(
            "reader", "READ", model=priced(_reader(delay_s)), kits=["files"], compact_at_tokens=1000
        )
    if kind == "ensemble_judge":
        return Agent("root", "ROOT", model=priced(_judged(delay_s)), kits=["topology"])
    if kind == "curation":
        return Agent("root", "ROOT", model=priced(_curated), kits=["files", "memory"])
    return Agent("root", "ROOT", model=priced(_asking(delay_s)), kits=["memory"])


def _reader(delay_s: float) -> Callable[[list[Message]], Any]:
    """Reads f0.txt to f5.txt, one a step, then finishes; its context is folded on the way."""

    def reply(messages: list[Message]) -> Any:
        if messages[0].content == SUMMARIZER:
            facts = [line.split()[-1] for line in messages[1].content.splitlines() if "=" in line]
            return "Facts found: " + ", ".join(facts)
        read = [json.loads(c.arguments)["path"] for m in messages for c in m.tool_calls]
        following = int(read[-1][1]) + 1 if read else 0  # f3.txt -> 4
        folded = any(m.content.startswith("[Summary of earlier steps") for m in messages)
        step = (
            call("read_file", path=f"f{following}.txt")
            if following < 6
            else call("finish", answer="read them all")
        )
        return {**step, "delay_s": delay_s if folded else 0}

    return reply


def _judged(delay_s: float) -> Callable[[list[Message]], Any]:
    """An ensemble of two, judged; then the root finishes with the verdict."""

    def reply(messages: list[Message]) -> Any:
        who = messages[0].content
        if who == JUDGE:
            return '{"choice": 1, "reason": "Paris is the capital of France"}'
        if who == "GEO":
            return "Paris"
        steps = [
            call("create_agent", name="geo", instructions="GEO", tools=[]),
            call("ensemble", task="capital of France?", agent="geo", n=2, select="judge"),
        ]
        if replies(messages) < 2:
            return steps[replies(messages)]
        return {**call("finish", answer=last_result(messages)), "delay_s": delay_s}

    return reply


def _curated(messages: list[Message]) -> Any:
    """A failed read, the read that worked, the answer; and the curator's facts."""
    if messages[0].content == CURATOR:
        return '[{"kind": "fact", "text": "The settings are in settings.yml"}]'
    steps = [
        call("read_file", path="config.yml"),
        call("read_file", path="settings.yml"),
        call("finish", answer="the key is value"),
    ]
    return steps[replies(messages)]


def _asking(delay_s: float) -> Callable[[list[Message]], Any]:
    """The root asks the memory agent, which searches and answers; the root passes it on."""

    def reply(messages: list[Message]) -> Any:
        if messages[0].content == MEMORY:
            return [
                call("search_memory", query="deploys"),
                call("finish", answer="nothing is known about deploys"),
            ][replies(messages)]
        if replies(messages) == 0:
            return call("ask_memory", question="What do we know about deploys?")
        return {**call("finish", answer=last_result(messages)), "delay_s": delay_s}

    return reply


if __name__ == "__main__":
    kind, workdir, delay = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    agent(kind, delay).run_sync("go", workdir=workdir)
