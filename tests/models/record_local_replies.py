"""Record what the bundled models really write, for the text tool-call parser's tests.

    .venv/bin/python tests/models/record_local_replies.py qwen-0.5b [PATH-or-NAME ...]

Runs a few short agent tasks (real kits, real work dirs) on each model at temperature 0 and
0.7, without stopping a reply at its first call (so that what small models write after it is
recorded too), and appends every reply's raw text, with the tools offered and what the parser
made of it, to tests/models/data/local_replies.json. The labels the tests check (`expect`) are
written by hand after reading the replies; a new recording keeps the labels of replies it
already has.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from opensage import Agent, ModelSettings, tool
from opensage.models import text_calls
from opensage.models.local import LocalModel

OUT = Path(__file__).parent / "data" / "local_replies.json"


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


CALC = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
TEST = (
    "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_mul():\n    assert mul(2, 3) == 6\n"
)

SCENARIOS = {
    "add": dict(task="What is 17 plus 25? Use the add tool.", kits=[], tools=[add], steps=3),
    "read": dict(
        task="What is the deploy date written in notes.txt?",
        kits=["files"],
        files={"notes.txt": "Team notes\nDeploy date: 2025-03-14\nOwner: Dana\n"},
        steps=3,
    ),
    "fix": dict(
        task="The tests in test_calc.py fail. Fix the bug in calc.py so that they pass.",
        kits=["swe"],
        files={"calc.py": CALC, "test_calc.py": TEST},
        steps=5,
    ),
    "plain": dict(
        task="What is the capital of France? Answer in one word.", kits=["files"], steps=2
    ),
    "shell": dict(
        task="How many lines does data.csv have? Count them with a command.",
        kits=["shell"],
        files={"data.csv": "a,b\n1,2\n3,4\n5,6\n"},
        steps=3,
    ),
}
INSTRUCTIONS = (
    "You are OpenSage, an autonomous agent. Work on the task step by step using "
    "your tools. When the task is done, call finish(answer) with the final answer."
)


async def record(
    spec: str, label: str, temperature: float, rows: list[dict], schemas: dict[str, list[dict]]
) -> None:
    for scenario, how in SCENARIOS.items():
        captured: list[dict] = []
        original = text_calls.parse_text_reply

        def spy(
            response,
            tools,
            settings=None,
            max_calls=1,
            history=(),
            _captured=captured,
            _original=original,
            scenario=scenario,
        ):
            parsed = _original(response, tools, settings, max_calls, history)
            schemas[scenario] = [
                {"name": t.name, "description": t.description, "parameters": t.parameters}
                for t in tools
            ]
            previous = next((m.tool_calls for m in reversed(history) if m.role == "assistant"), ())
            _captured.append(
                {
                    "text": response.message.content,
                    "previous": [[c.name, c.arguments] for c in previous],
                    "parsed": [[c.name, c.arguments] for c in parsed.message.tool_calls],
                }
            )
            return parsed

        text_calls.parse_text_reply = spy
        with tempfile.TemporaryDirectory() as work:
            for name, text in how.get("files", {}).items():
                Path(work, name).write_text(text)
            model = LocalModel(spec, stop_after_call=False)
            started = time.monotonic()
            try:
                result = await Agent(
                    "recorder",
                    INSTRUCTIONS,
                    model=model,
                    kits=how["kits"],
                    tools=how.get("tools", []),
                    max_steps=how["steps"],
                    settings=ModelSettings(temperature=temperature, max_output_tokens=300),
                ).run(how["task"], workdir=work)
            finally:
                text_calls.parse_text_reply = original
                await model.aclose()
        print(
            f"{label} t={temperature} {scenario}: {result.stop_reason} "
            f"{result.answer!r:.60} {time.monotonic() - started:.0f}s",
            flush=True,
        )
        for step, reply in enumerate(captured, start=1):
            rows.append(
                {
                    "model": label,
                    "scenario": scenario,
                    "temperature": temperature,
                    "step": step,
                    **reply,
                }
            )


def main() -> None:
    data = json.loads(OUT.read_text()) if OUT.exists() else {"tools": {}, "replies": []}
    rows: list[dict] = data["replies"]
    labels = {(r["model"], r["text"]): r["expect"] for r in rows if "expect" in r}
    for spec in sys.argv[1:]:
        label = spec if not spec.endswith(".gguf") else Path(spec).stem
        new: list[dict] = []
        for temperature in (0.0, 0.7):
            asyncio.run(record(spec, label, temperature, new, data["tools"]))
        for row in new:
            if (label, row["text"]) in labels:
                row["expect"] = labels[(label, row["text"])]
        data["replies"] = rows = [r for r in rows if r["model"] != label] + new
        OUT.parent.mkdir(exist_ok=True)
        OUT.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
