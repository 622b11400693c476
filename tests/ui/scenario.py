"""A recorded multi-agent run for the viewer's tests: a model that builds a team (a sub-agent that
remembers and recalls, a background agent, an ensemble of three of which one passes the
verification), writes a tool and uses it, reads a file whose output the model sees cut (a
planted <script> in the part it does not see), fails a call, and retires an agent."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from opensage import Agent
from opensage.core.loop import RunResult
from opensage.memory import MemoryStore

from ..topology.conftest import call, team_model

PLANT = (
    "<script>document.title='pwned';window.__pwned=1</script>"
    '<img src=x onerror="window.__pwned=2">'
)
MIDDLE = "MIDDLE-OF-THE-FULL-OUTPUT"
BIG = "a" * 12_000 + "\n" + PLANT + MIDDLE + "\n" + "b" * 12_000
FACT = "The greeting is 'hello, world' <img src=x onerror=\"window.__pwned=3\">"
TASK = "Write the greeting <script>window.__pwned=4</script>"
SHOUT = "def main(text: str) -> str:\n    '''Upper-case a text.'''\n    return text.upper()\n"
WRITTEN = 1  # the entry the researcher remembers: the store's first
AGENTS = ("root", "researcher", "helper", "writer[0]", "writer[1]", "writer[2]")


@dataclass
class Recorded:
    result: RunResult
    home: Path
    workdir: Path

    @property
    def run_id(self) -> str:
        return self.result.run_id


def configure(home: Path, more: str = "") -> None:
    """A home whose memory searches by keywords (no embedding model to load in tests), and
    `more` settings."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "opensage.toml").write_text('[memory]\nembedder = "none"\n' + more)


def record(home: Path, workdir: Path, settings: str = "") -> Recorded:
    configure(home, settings)
    workdir.mkdir(parents=True, exist_ok=True)
    turn = itertools.count()

    def write_answer(messages):  # the second member to ask writes the answer that passes
        return call("write_file", path="answer.txt", content="yes\n" if next(turn) == 1 else "no\n")

    model = team_model(
        {
            "ROOT": [
                call(
                    "create_agent",
                    name="researcher",
                    instructions="RESEARCH",
                    tools=["remember", "recall"],
                    description="finds and keeps facts",
                ),
                call(
                    "create_agent",
                    name="writer",
                    instructions="WRITE",
                    tools=["write_file", "read_file"],
                    description="writes files",
                ),
                call("create_agent", name="helper", instructions="HELP", tools=[]),
                call("run_agent", name="researcher", task="find the greeting"),
                call("run_agent", name="helper", task="help in the background", background=True),
                call(
                    "ensemble",
                    task="write answer.txt",
                    agent="writer",
                    n=3,
                    select="verify",
                    verify_command="grep -qx yes answer.txt",
                ),
                call("wait_agents", handles=["helper#1"]),
                call(
                    "create_tool",
                    name="shout",
                    description="upper-cases a text",
                    code=SHOUT,
                    tests=[{"args": {"text": "hi"}, "expect": "HI"}],
                ),
                call("shout", text="hello"),
                call("write_file", path="big.txt", content=BIG),
                call("read_file", path="missing.txt"),
                call("read_file", path="big.txt"),
                call("retire_agent", name="researcher"),
                call("finish", answer="done: <b>greeting</b> written"),
            ],
            "RESEARCH": [
                call("remember", content=FACT, kind="fact", tags=["greeting"]),
                call("recall", query="greeting"),
                call("finish", answer="the greeting is hello, world"),
            ],
            "HELP": ["helped"],
            "WRITE": [write_answer, call("finish", answer="wrote answer.txt")],
        }
    )
    agent = Agent(
        "root",
        "ROOT",
        model=model,
        home=home,
        kits=["files", "shell", "topology", "synthesis", "memory"],
    )
    result = agent.run_sync(TASK, workdir=workdir)
    assert result.ok, result
    # Entries around the run's: a correction that supersedes it, and a related one, linked.
    store = MemoryStore(home / "memory.db", embedder=None)
    newer = store.add(
        "The greeting is 'hello, world!' with an exclamation mark", supersedes=WRITTEN
    )
    related = store.add("Greetings are written to answer.txt", kind="procedure")
    store.link(related, WRITTEN, "related")
    store.link(newer, related, "related")
    store.close()
    return Recorded(result, home, workdir)
