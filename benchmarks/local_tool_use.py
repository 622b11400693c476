"""Can the bundled models use tools? Four small agent tasks, each checked by its answer or by
the tests, run a few times on each model at the server's default sampling (each sample its own
seed), with the restated call asked again (OpenSage's default) and without it.

    read   read a file with read_file, answer with the password in it       (files kit)
    shell  run `wc -l data.csv`, answer with the count                       (shell kit)
    add    17 + 25 with an add tool                                          (one tool)
    fix    a one-line bug (a - b for a + b): the tests must pass after       (swe kit)

Prints success counts, steps and seconds per run, and writes
benchmarks/results/local_tool_use.json.

    .venv/bin/python benchmarks/local_tool_use.py [--models qwen-0.5b ...] [--samples 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
INSTRUCTIONS = (
    "You are OpenSage, an autonomous agent. Work on the task step by step using "
    "your tools. When the task is done, call finish(answer) with the final answer."
)
CALC = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
TEST = (
    "from calc import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
    "def test_mul():\n    assert mul(2, 3) == 6\n"
)


def tasks():
    from opensage import tool

    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    return {
        "read": dict(
            task="Read secret.txt with read_file and answer with the password written in it.",
            kits=["files"],
            files={"secret.txt": "The password is: tangerine\n"},
            check=lambda answer, work: "tangerine" in answer,
            steps=4,
        ),
        "shell": dict(
            task="Run the command `wc -l data.csv` and answer with the number of lines it prints.",
            kits=["shell"],
            files={"data.csv": "a,b\n1,2\n3,4\n5,6\n"},
            check=lambda answer, work: "4" in answer,
            steps=4,
        ),
        "add": dict(
            task="What is 17 plus 25? Use the add tool.",
            kits=[],
            tools=[add],
            check=lambda answer, work: "42" in answer,
            steps=4,
        ),
        "fix": dict(
            task="The tests in test_calc.py fail. Fix the bug in calc.py so that they pass.",
            kits=["swe"],
            files={"calc.py": CALC, "test_calc.py": TEST},
            check=lambda answer, work: tests_pass(work),
            steps=8,
        ),
    }


def tests_pass(work: str) -> bool:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=work,
        capture_output=True,
        timeout=120,
    )
    test = Path(work, "test_calc.py").read_text()
    return done.returncode == 0 and test == TEST  # the tests themselves left alone


async def one(spec: str, name: str, how: dict, retry: bool, seed: int) -> dict:
    from opensage import Agent
    from opensage.models.local import LocalModel

    with tempfile.TemporaryDirectory() as work:
        for file, text in how.get("files", {}).items():
            Path(work, file).write_text(text)
        model = LocalModel(spec, retry_restated=retry, seed=seed)
        started = time.monotonic()
        try:
            result = await Agent(
                "root",
                INSTRUCTIONS,
                model=model,
                kits=how["kits"],
                tools=how.get("tools", []),
                max_steps=how["steps"],
            ).run(how["task"], workdir=work)
        finally:
            await model.aclose()
        ok = how["check"](result.answer or "", work)
    return {
        "model": spec,
        "task": name,
        "retry_restated": retry,
        "ok": ok,
        "stop_reason": result.stop_reason,
        "steps": result.steps,
        "requests": result.usage.requests,
        "seconds": round(time.monotonic() - started, 1),
        "answer": (result.answer or "")[:200],
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--models", nargs="+", default=["qwen-0.5b"], help="local models: NAME or PATH.gguf"
    )
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--tasks", nargs="+", default=None)
    args = parser.parse_args()
    all_tasks = tasks()
    runs = []
    for spec in args.models:
        for name in args.tasks or all_tasks:
            for retry in (True, False):
                for sample in range(args.samples):  # the same seeds with and without retry
                    run = await one(spec, name, all_tasks[name], retry, seed=1000 * sample)
                    runs.append(run)
                    print(json.dumps(run), flush=True)
    print(f"\n{'model':<28} {'task':<6} {'retry':<6} {'solved':<7} {'steps':<6} seconds")
    keys = sorted(
        {(r["model"], r["task"], r["retry_restated"]) for r in runs},
        key=lambda k: (k[0], list(all_tasks).index(k[1]), not k[2]),
    )
    for model, task, retry in keys:
        rows = [
            r for r in runs if (r["model"], r["task"], r["retry_restated"]) == (model, task, retry)
        ]
        solved = sum(r["ok"] for r in rows)
        steps = sum(r["steps"] for r in rows) / len(rows)
        seconds = sum(r["seconds"] for r in rows) / len(rows)
        label = Path(model).stem if model.endswith(".gguf") else model
        print(
            f"{label:<28} {task:<6} {'yes' if retry else 'no':<6} "
            f"{solved}/{len(rows):<5} {steps:<6.1f} {seconds:.0f}"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "local_tool_use.json").write_text(json.dumps({"runs": runs}, indent=1) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
