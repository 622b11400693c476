"""The security kit wired as a kit (`kits=["security"]`, `opensage run --kit security`): its
tools' contract, a scripted agent that reproduces a planted bug through the CLI, fuzzing's
progress recorded under the tool call, each tool's own time limit, and the kit through an Agent
on the container backend (slow)."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from opensage import Agent
from opensage.cli import app
from opensage.core.context import RunShared
from opensage.core.events import EventLog
from opensage.kits import make_kit
from opensage.kits.security import SecurityKit
from opensage.models import ScriptedModel, tool_call
from opensage.sandbox import open_sandbox
from tests.contexts import run_context
from tests.kits.contract import REQUIRED, check_contract, results
from tests.kits.security.programs import HEAP, INPUT, line_of, write
from tests.kits.security.test_fuzz import PLANTED

CONTRACT: dict[str, dict[str, Any]] = {
    "build": {
        "command": None,
        "sanitizers": ["address", "undefined"],
        "fuzzer": False,
        "path": ".",
    },
    "write_poc": {"script": REQUIRED, "output": "poc"},
    "run_poc": {"binary": REQUIRED, "poc": REQUIRED, "args": None, "timeout_s": 10},
    "fuzz": {
        "target": REQUIRED,
        "seconds": 60,
        "seeds": None,
        "dictionary": None,
        "jobs": 1,
        "minimize": True,
    },
    "triage": {"binary": REQUIRED, "crashes": REQUIRED},
    "crash_context": {"binary": REQUIRED, "poc": REQUIRED},
    "compare_builds": {"poc": REQUIRED, "vulnerable": REQUIRED, "fixed": REQUIRED},
}
FIXED = HEAP.replace("cells[at] = 'x';", "if (at < 16) cells[at] = 'x';")
POC_SCRIPT = "import sys; open(sys.argv[1], 'wb').write(bytes([40]))"


def kit_tools(tmp_path: Path, home: Path) -> dict[str, Any]:
    async def opened() -> dict[str, Any]:
        ctx = replace(run_context(tmp_path, home), shared=RunShared(lambda: open_sandbox("bwrap")))
        async with SecurityKit().session(ctx) as tools:
            return {t.name: t for t in tools}

    return asyncio.run(opened())


def test_every_tool_has_the_contract_name_and_arguments(tmp_path, home):
    assert isinstance(make_kit("security"), SecurityKit)
    tools = kit_tools(tmp_path, home)
    check_contract({name: t.schema.parameters for name, t in tools.items()}, CONTRACT)
    assert tools["run_poc"].schema.parameters["properties"]["timeout_s"]["type"] == "number"
    assert tools["triage"].schema.parameters["properties"]["crashes"]["type"] == "array"


def test_long_running_tools_outlast_the_loops_tool_timeout(tmp_path, home):
    """The loop abandons a tool call after 600 s unless the tool has its own limit: build,
    fuzz and triage can take longer, and each tool's limit lies past its longest run."""
    tools = kit_tools(tmp_path, home)
    assert tools["build"].timeout_s > 1800
    assert tools["fuzz"].timeout_s > 3600 + 50 * 30  # an hour, then each crash run once
    assert tools["triage"].timeout_s > 500 * 10 / 2
    assert tools["run_poc"].timeout_s > 600
    assert all(t.timeout_s is not None for t in tools.values())


# --- a scripted agent reproduces a planted bug, through the CLI ------------------------------


def test_a_scripted_agent_reproduces_a_planted_bug_through_the_cli(home, tmp_path):
    work = write(tmp_path / "work", {"input.c": INPUT, "heap.c": HEAP})
    write(work / "fixed", {"input.c": INPUT, "heap.c": FIXED})
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            [
                tool_call("build"),
                tool_call("build", path="fixed"),
                tool_call("write_poc", script=POC_SCRIPT, output="pocs/heap"),
                tool_call("run_poc", binary="out/heap", poc="pocs/heap"),
                tool_call(
                    "compare_builds", poc="pocs/heap", vulnerable="out/heap", fixed="fixed/out/heap"
                ),
                tool_call(
                    "finish", answer="heap-buffer-overflow in store (heap.c), input pocs/heap"
                ),
            ]
        )
    )
    res = CliRunner().invoke(
        app,
        [
            "run",
            "reproduce the heap overflow",
            "--kit",
            "security",
            "--model",
            f"scripted:{script}",
            "--workdir",
            str(work),
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    run = json.loads(res.stdout)
    assert run["stop_reason"] == "finished"
    assert run["answer"].startswith("heap-buffer-overflow in store")
    calls = results(home, run["run_id"])[:5]
    assert [(name, ok) for name, ok, _ in calls] == [
        ("build", True),
        ("build", True),
        ("write_poc", True),
        ("run_poc", True),
        ("compare_builds", True),
    ]
    built, built_fixed, written, ran, verdict = (text for _, _, text in calls)
    assert re.search(
        r"^built with clang.*-fsanitize=address,undefined.*: 1 executable\n"
        r"  out/heap$",
        built,
        re.M,
    ), built
    assert "fixed/out/heap" in built_fixed
    assert written.splitlines()[:2] == [
        "wrote pocs/heap: 1 bytes",
        "00000000: 28                                       (",
    ]
    assert ran.startswith("CRASHED")
    assert "heap-buffer-overflow (AddressSanitizer), WRITE of size 1" in ran
    assert f"#0 store heap.c:{line_of(HEAP, 'HEAP')}" in ran
    assert re.search(r"^signature: [0-9a-f]{12}$", ran, re.M)
    assert verdict.startswith("REPRODUCED")
    # The PoC was written by the script, in the work dir, and is what crashed.
    assert (work / "pocs" / "heap").read_bytes() == bytes([40])


# --- fuzz's progress, in the event log under the tool call -----------------------------------


def test_fuzz_progress_is_recorded_under_the_tool_call(home, tmp_path):
    work = write(tmp_path / "work", {"planted.c": PLANTED})
    model = ScriptedModel(
        [
            tool_call("build", fuzzer=True),
            tool_call("fuzz", target="out/planted", seconds=12, minimize=False),
            tool_call("finish", answer="fuzzed"),
        ]
    )
    result = Agent("root", model=model, kits=["security"]).run_sync("fuzz it", workdir=work)
    assert result.stop_reason == "finished"
    log = EventLog.open(home / "events.db")
    fuzz_call = next(
        e for e in log.events(result.run_id, ("tool_call",)) if e.data["name"] == "fuzz"
    )
    progress = log.events(result.run_id, ("fuzz_progress",))
    assert progress, "no fuzz_progress event recorded"
    assert all(e.parent == fuzz_call.id and e.agent == "root" for e in progress)
    assert progress[0].data["event"] == "INITED"
    assert {"target", "runs", "exec_per_s", "cov", "worker", "elapsed_s"} <= set(progress[-1].data)
    assert progress[-1].data["target"] == "out/planted"
    assert any(e.data["cov"] > 0 for e in progress)
    # At most one a worker every few seconds, besides INITED and DONE.
    timed = [e for e in progress if e.data["event"] not in ("INITED", "DONE")]
    assert len(timed) <= 12 / 5 + 2, [e.data for e in progress]
    ((_, ok, text),) = [r for r in results(home, result.run_id) if r[0] == "fuzz"]
    assert ok and text.startswith("fuzzed out/planted (libFuzzer)")


# --- the kit through an Agent on the container backend ---------------------------------------


@pytest.mark.slow
def test_the_kit_through_an_agent_on_the_container_backend(home, tmp_path):
    work = write(tmp_path / "work", {"input.c": INPUT, "heap.c": HEAP})
    write(work / "fixed", {"input.c": INPUT, "heap.c": FIXED})
    model = ScriptedModel(
        [
            tool_call("build"),
            tool_call("build", path="fixed"),
            tool_call("write_poc", script=POC_SCRIPT),
            tool_call("run_poc", binary="out/heap", poc="poc"),
            tool_call("triage", binary="out/heap", crashes=["poc"]),
            tool_call("crash_context", binary="out/heap", poc="poc"),
            tool_call("compare_builds", poc="poc", vulnerable="out/heap", fixed="fixed/out/heap"),
            tool_call("finish", answer="reproduced"),
        ]
    )
    result = Agent(
        "root", model=model, kits=["security"], sandbox=open_sandbox("container")
    ).run_sync("reproduce", workdir=work)
    assert result.stop_reason == "finished"
    model.assert_exhausted()
    calls = results(home, result.run_id)
    assert [name for name, ok, _ in calls if not ok] == []
    given = {name: text for name, _, text in calls}
    assert given["run_poc"].startswith("CRASHED")
    assert f"#0 store heap.c:{line_of(HEAP, 'HEAP')}" in given["run_poc"]
    assert given["triage"].startswith("1 input: 1 crashed, 1 distinct signature")
    assert "store (cells=0x" in given["crash_context"]
    assert given["compare_builds"].startswith("REPRODUCED")
