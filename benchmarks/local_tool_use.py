"""Can the bundled models use tools? Four small agent tasks, each checked by its answer or by
the tests, run a few times on each model at the server's default sampling (each sample its own
seed), with every request held to the tools' grammar (`constrain=True`; by default only a
required call is) and without, with the model's profile (fewer, coarser tools for the 0.5B: the
default) and without, with the restated call asked again (the default) and without.

    read   read a file with read_file, answer with the password in it       (files kit)
    shell  run `wc -l data.csv`, answer with the count                       (shell kit)
    add    17 + 25 with an add tool                                          (one tool)
    fix    a one-line bug (a - b for a + b): the tests must pass after       (swe kit)

Then what the grammar costs: the same request (the fix task's tools, a reply of 128 tokens at
temperature 0, its prompt already read once so that only generation is timed) with and without
it, generated tokens per second; and a one-token reply with and without it (the server parses
the grammar on each request).

Prints success counts, steps and seconds per run, and writes
benchmarks/results/local_tool_use.json.

    .venv/bin/python benchmarks/local_tool_use.py [--models qwen-0.5b ...] [--samples 3]
        [--grammar on off] [--profile on off] [--retry yes no] [--tasks read ...]
        [--speed-repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
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


async def one(
    spec: str, name: str, how: dict, retry: bool, grammar: bool, profile: bool, seed: int
) -> dict:
    from opensage import Agent
    from opensage.models.local import LocalModel

    with tempfile.TemporaryDirectory() as work:
        for file, text in how.get("files", {}).items():
            Path(work, file).write_text(text)
        model = LocalModel(
            spec, retry_restated=retry, seed=seed, constrain=grammar, profile=profile
        )
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
        "grammar": grammar,
        "profile": profile,
        "ok": ok,
        "stop_reason": result.stop_reason,
        "steps": result.steps,
        "requests": result.usage.requests,
        "seconds": round(time.monotonic() - started, 1),
        "answer": (result.answer or "")[:200],
        "calls": calls_made(result.run_id),
    }


def calls_made(run_id: str) -> list[str]:
    """The run's calls as `name arguments` (cut short), `!` after one the tool refused."""
    from opensage.config import opensage_home
    from opensage.core.events import EventLog

    log = EventLog.open(opensage_home() / "events.db")
    conv = log.events(run_id, ("agent_started",))[0].id
    messages = log.conversation(run_id, conv)
    errors = {m.tool_call_id for m in messages if m.role == "tool" and m.is_error}
    return [
        f"{c.name} {c.arguments[:70]}{' !' if c.id in errors else ''}"
        for m in messages
        for c in m.tool_calls
    ]


async def speed(spec: str, repeats: int) -> list[dict]:
    """Generated tokens per second with and without the grammar, and a one-token reply's time
    (what parsing the grammar adds to each request), on one model object in turns."""
    from opensage.models.base import Message, ModelSettings
    from opensage.models.local import LocalModel

    with tempfile.TemporaryDirectory() as work:
        tools = await fix_tools(work)
    messages = [
        Message("system", INSTRUCTIONS),
        Message("user", "Create long_example.py: a Python module of at least 100 lines."),
    ]
    rows = []
    models = {
        on: LocalModel(spec, constrain=on, retry_restated=False, profile=False)
        for on in (False, True)
    }
    try:
        for tokens in (1, 128):
            settings = ModelSettings(temperature=0.0, max_output_tokens=tokens)
            await models[False].request(messages, tools, settings)  # read the prompt once
            times: dict[bool, list[float]] = {False: [], True: []}
            made: dict[bool, int] = {}
            for _ in range(repeats):
                for on, model in models.items():
                    started = time.perf_counter()
                    response = await model.request(messages, tools, settings)
                    times[on].append(time.perf_counter() - started)
                    made[on] = response.usage.output_tokens
            for on in (False, True):
                best = min(times[on])
                rows.append(
                    {
                        "model": spec,
                        "grammar": on,
                        "max_tokens": tokens,
                        "output_tokens": made[on],
                        "seconds": round(best, 3),
                        "tokens_per_s": round(made[on] / best, 1),
                    }
                )
    finally:
        for model in models.values():
            await model.aclose()
    return rows


async def fix_tools(work: str) -> list:
    """The tool schemas the fix task's agent is offered."""
    from opensage import Agent
    from opensage.models.base import Message, ToolCall
    from opensage.models.scripted import FunctionModel

    offered: list = []

    def record(messages, tools):
        offered.extend(tools)
        return Message("assistant", "", (ToolCall("c", "finish", '{"answer": "-"}'),))

    how = tasks()["fix"]
    await Agent("root", INSTRUCTIONS, model=FunctionModel(record), kits=how["kits"]).run(
        "-", workdir=work
    )
    return offered


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--models", nargs="+", default=["qwen-0.5b"], help="local models: NAME or PATH.gguf"
    )
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--tasks", nargs="+", default=None)
    parser.add_argument("--grammar", nargs="+", choices=["on", "off"], default=["on", "off"])
    parser.add_argument("--profile", nargs="+", choices=["on", "off"], default=["on", "off"])
    parser.add_argument("--retry", nargs="+", choices=["yes", "no"], default=["yes"])
    parser.add_argument("--speed-repeats", type=int, default=3, help="0: no speed measurement")
    args = parser.parse_args()
    all_tasks = tasks()
    runs, speeds = [], []
    for spec in args.models:
        if args.speed_repeats:
            for row in await speed(spec, args.speed_repeats):
                speeds.append(row)
                print(json.dumps(row), flush=True)
        for name in args.tasks or all_tasks:
            for grammar, profile, retry in itertools.product(
                (g == "on" for g in args.grammar),
                [p == "on" for p in args.profile],
                [r == "yes" for r in args.retry],
            ):
                for sample in range(args.samples):  # the same seeds in each variant
                    run = await one(
                        spec, name, all_tasks[name], retry, grammar, profile, seed=1000 * sample
                    )
                    runs.append(run)
                    print(json.dumps(run), flush=True)
    if speeds:
        print(f"\n{'model':<28} {'grammar':<8} {'max':<5} {'tokens':<7} {'seconds':<8} tokens/s")
        for r in speeds:
            print(
                f"{label(r['model']):<28} {'on' if r['grammar'] else 'off':<8} "
                f"{r['max_tokens']:<5} {r['output_tokens']:<7} {r['seconds']:<8} "
                f"{r['tokens_per_s']}"
            )
    print(f"\n{'model':<28} {'task':<6} grammar profile retry solved  steps  s")
    variants = lambda r: (  # noqa: E731
        r["model"],
        r["task"],
        r["grammar"],
        r.get("profile", False),
        r["retry_restated"],
    )
    keys = sorted(
        {variants(r) for r in runs},
        key=lambda k: (k[0], list(all_tasks).index(k[1]), not k[2], not k[3], not k[4]),
    )
    for key in keys:
        rows = [r for r in runs if variants(r) == key]
        solved = sum(r["ok"] for r in rows)
        steps = sum(r["steps"] for r in rows) / len(rows)
        seconds = sum(r["seconds"] for r in rows) / len(rows)
        model, task, grammar, profile, retry = key
        print(
            f"{label(model):<28} {task:<6} {'on' if grammar else 'off':<7} "
            f"{'on' if profile else 'off':<7} {'yes' if retry else 'no':<5} "
            f"{solved}/{len(rows):<5} {steps:<6.1f} {seconds:.0f}"
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "local_tool_use.json").write_text(
        json.dumps({"speed": speeds, "runs": runs}, indent=1) + "\n"
    )


def label(model: str) -> str:
    return Path(model).stem if model.endswith(".gguf") else model


if __name__ == "__main__":
    asyncio.run(main())
