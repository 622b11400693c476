"""Scripted scenarios: a model writing, testing, using and reusing its own tools."""

import json
import re
import secrets
from pathlib import Path

from typer.testing import CliRunner

from opensage import Agent
from opensage.cli import app
from opensage.core.events import EventLog
from opensage.synthesis.library import ToolLibrary

from ..topology.conftest import call, team_model

ADD = "def main(a: int, b: int) -> int:\n    '''Add two integers.'''\n    return a {op} b\n"
TESTS = [
    {"args": {"a": 2, "b": 3}, "expect": 5},
    {"args": {"a": 0, "b": 0}, "check": "result == 0"},
]


def root(model, **kwargs):
    return Agent("root", "ROOT", model=model, kits=["synthesis", "topology"], **kwargs)


def tool_results(home, run_id):
    """(event data, message the model saw) of each tool result, in order."""
    log = EventLog.open(home / "events.db")
    messages = log.messages_by_event(run_id)
    return [(e.data, messages[e.id].content) for e in log.events(run_id, ("tool_result",))]


def last(messages):
    return next(m for m in reversed(messages) if m.role == "tool").content


def test_a_buggy_tool_fails_its_test_is_fixed_and_used(home, tmp_path):
    model = team_model(
        {
            "ROOT": [
                call(
                    "create_tool",
                    name="add",
                    description="adds",
                    code=ADD.format(op="-"),
                    tests=TESTS,
                ),
                call(
                    "create_tool",
                    name="add",
                    description="adds",
                    code=ADD.format(op="+"),
                    tests=TESTS,
                ),
                call("add", a=20, b=22),
                lambda m: call("finish", answer=last(m)),
            ]
        }
    )
    result = root(model).run_sync("make an adder", workdir=tmp_path)
    assert result.answer == "42"
    (rejected, _), (created, _), (used, _), _ = tool_results(home, result.run_id)
    assert rejected["error"] == "failed" and created["ok"] and used["ok"]
    told = tool_results(home, result.run_id)[0][1]
    assert "1 of 2 tests failed" in told and "expected 5, got -1" in told
    kinds = [e.kind for e in EventLog.open(home / "events.db").events(result.run_id)]
    assert kinds.count("tool_rejected") == 1 and kinds.count("tool_created") == 1
    record = ToolLibrary(home / "tools.db").get("add")
    assert (record.version, record.calls, record.successes) == (1, 1, 1)
    assert record.created_run == result.run_id and record.created_by == "root"
    shown = CliRunner().invoke(app, ["runs", "show", result.run_id]).stdout
    assert "tool rejected add at tests: 1 of 2 tests failed" in shown
    assert "wrote tool add v1  (2 tests passed)" in shown


def test_a_tool_that_raises_on_other_input_reports_the_traceback(home, tmp_path):
    code = "def main(n: int) -> float:\n    return 1 / n\n"
    model = team_model(
        {
            "ROOT": [
                call(
                    "create_tool",
                    name="inverse",
                    description="1/n",
                    code=code,
                    tests=[{"args": {"n": 2}, "expect": 0.5}],
                ),
                call("inverse", n=0),
                call("inverse", n="zero"),
                lambda m: call("finish", answer="handled"),
            ]
        }
    )
    result = root(model).run_sync("go", workdir=tmp_path)
    assert result.answer == "handled"
    _, (raised, raised_text), (bad, bad_text), _ = tool_results(home, result.run_id)
    assert raised["error"] == "failed"
    assert "ZeroDivisionError: division by zero" in raised_text and "return 1 / n" in raised_text
    assert bad["error"] == "bad_arguments" and "n: 'zero' does not fit" in bad_text
    record = ToolLibrary(home / "tools.db").get("inverse")
    assert (record.calls, record.successes) == (1, 0)  # the malformed call never ran


def test_hostile_and_runaway_tools_are_contained(home, tmp_path):
    secret = Path.home() / f".opensage-test-secret-{secrets.token_hex(4)}"
    secret.write_text("HOST-SECRET")
    loop = "def main() -> int:\n    while True:\n        pass\n"
    thief = f"def main() -> str:\n    return open({str(secret)!r}).read()\n"
    (tmp_path / "opensage.toml").write_text("[sandbox.limits]\ncpu_seconds = 2\n")
    try:
        model = team_model(
            {
                "ROOT": [
                    call("create_tool", name="spin", description="loops", code=loop),
                    call("spin"),
                    call("create_tool", name="steal", description="reads", code=thief),
                    call("steal"),
                    lambda m: call("finish", answer="survived"),
                ]
            }
        )
        result = root(model).run_sync("go", workdir=tmp_path)
        assert result.answer == "survived"
        results = tool_results(home, result.run_id)
        spin, steal = results[1][1], results[3][1]
        assert "stopped by the sandbox's cpu limit" in spin
        assert "FileNotFoundError" in steal and "HOST-SECRET" not in steal
    finally:
        secret.unlink()


def test_a_tool_made_in_one_run_is_found_and_used_in_the_next(home, tmp_path):
    words = (
        "def main(text: str) -> int:\n    '''Count the words in a text.'''\n"
        "    return len(text.split())\n"
    )
    first = team_model(
        {
            "ROOT": [
                call(
                    "create_tool",
                    name="word_count",
                    description="count the words in a text",
                    code=words,
                    tests=[{"args": {"text": "a b"}, "expect": 2}],
                ),
                call("finish", answer="made"),
            ]
        }
    )
    root(first).run_sync("make it", workdir=tmp_path)
    second = team_model(
        {
            "ROOT": [
                call("search_tools", query="count words"),
                call("word_count", text="one two three"),
                call("create_agent", name="counter", instructions="COUNT", tools=["word_count"]),
                call("run_agent", name="counter", task="count"),
                lambda m: call("finish", answer=last(m)),
            ],
            "COUNT": [call("word_count", text="x y"), lambda m: call("finish", answer=last(m))],
        }
    )
    result = root(second).run_sync("use it", workdir=tmp_path)
    found, counted = tool_results(home, result.run_id)[:2]
    assert json.loads(found[1])[0]["name"] == "word_count"
    assert counted[1] == "3"
    assert result.answer == "2"  # a sub-agent was given the written tool by name


def test_recreating_a_tool_makes_a_new_version_and_keeps_the_old(home, tmp_path):
    model = team_model(
        {
            "ROOT": [
                call("create_tool", name="add", description="adds v1", code=ADD.format(op="+")),
                call(
                    "create_tool",
                    name="add",
                    description="adds v2",
                    code=ADD.format(op="+") + "# faster\n",
                ),
                call("list_tools"),
                lambda m: call("finish", answer=last(m)),
            ]
        }
    )
    result = root(model).run_sync("go", workdir=tmp_path)
    listed = json.loads(result.answer)
    assert [(t["name"], t["version"], t["description"]) for t in listed] == [("add", 2, "adds v2")]
    versions = ToolLibrary(home / "tools.db").versions("add")
    assert [v.description for v in versions] == ["adds v1", "adds v2"]


def test_missing_imports_and_built_in_names_are_refused(home, tmp_path):
    model = team_model(
        {
            "ROOT": [
                call(
                    "create_tool",
                    name="fetch",
                    description="x",
                    code="import requests_not_here\ndef main() -> str:\n    return 'x'\n",
                ),
                call("create_tool", name="run_agent", description="x", code=ADD.format(op="+")),
                lambda m: call("finish", answer="ok"),
            ]
        }
    )
    result = root(model).run_sync("go", workdir=tmp_path)
    (_, missing), (_, builtin), _ = tool_results(home, result.run_id)
    assert "not installed in the sandbox: requests_not_here" in missing
    assert "'run_agent' is a built-in tool" in builtin


def test_tools_cli_list_show_test_rm(home, tmp_path):
    model = team_model(
        {
            "ROOT": [
                call(
                    "create_tool",
                    name="add",
                    description="adds two integers",
                    code=ADD.format(op="+"),
                    tests=TESTS,
                ),
                call("finish", answer="ok"),
            ]
        }
    )
    root(model).run_sync("go", workdir=tmp_path)
    runner = CliRunner()
    listed = json.loads(runner.invoke(app, ["tools", "list", "--json"]).stdout)
    assert [(t["name"], t["version"]) for t in listed] == [("add", 1)]
    shown = runner.invoke(app, ["tools", "show", "add"]).stdout
    assert "adds two integers" in shown and "return a + b" in shown
    tested = runner.invoke(app, ["tools", "test", "add"])
    assert tested.exit_code == 0 and "2 of 2 tests passed" in tested.stdout
    assert runner.invoke(app, ["tools", "rm", "add"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["tools", "list", "--json"]).stdout) == []
    assert runner.invoke(app, ["tools", "show", "add"]).exit_code == 2


def test_a_tool_written_and_used_through_opensage_run(home, tmp_path):
    script = tmp_path / "s.json"
    script.write_text(
        json.dumps(
            [
                call(
                    "create_tool",
                    name="add",
                    description="adds",
                    code=ADD.format(op="+"),
                    tests=TESTS,
                ),
                call("add", a=2, b=2),
                call("finish", answer="made and used"),
            ]
        )
    )
    r = CliRunner().invoke(
        app, ["run", "go", "--model", f"scripted:{script}", "--workdir", str(tmp_path), "--json"]
    )
    assert r.exit_code == 0, r.output
    run_id = json.loads(r.stdout)["run_id"]
    assert [text for _, text in tool_results(home, run_id)][1] == "4"
    assert ToolLibrary(home / "tools.db").get("add").calls == 1


def test_ensemble_members_run_written_tools_in_their_own_copies(home, tmp_path):
    stamp = (
        "def main(text: str) -> str:\n    '''Write a stamp file.'''\n"
        "    open('stamp.txt', 'w').write(text)\n    return 'stamped'\n"
    )
    members: dict[int, int] = {}

    def member_step(messages):
        return call("stamp", text=f"member {members.setdefault(id(messages), len(members))}")

    model = team_model(
        {
            "ROOT": [
                call("create_tool", name="stamp", description="stamps", code=stamp),
                call("create_agent", name="stamper", instructions="STAMP", tools=["stamp"]),
                call("ensemble", task="stamp", agent="stamper", n=3, select="vote"),
                lambda m: call("finish", answer=last(m)),
            ],
            "STAMP": [member_step, "ok"],
        }
    )
    result = Agent(
        "root", "ROOT", model=model, kits=["synthesis", "topology"], sandbox="bwrap"
    ).run_sync("go", workdir=tmp_path)
    report = json.loads(result.answer)
    assert report["applied"] == {"changed": ["stamp.txt"], "deleted": []}
    # One member's stamp, applied from its copy (had the members written into the real work
    # dir, their copies would be unchanged and nothing would have been applied).
    assert (tmp_path / "stamp.txt").read_text() in {f"member {i}" for i in range(3)}


COUNT = """#!/bin/bash
# Count the files in a folder of the work dir whose names end with a suffix.
# param folder: str - the folder
# param suffix: str = .txt - the ending
find "$FOLDER" -maxdepth 1 -name "*$SUFFIX" | wc -l
"""


def test_a_shell_tool_is_tested_kept_and_run_in_the_sandbox(home, tmp_path):
    (tmp_path / "notes").mkdir()
    for name in ("a.txt", "b.txt", "c.md"):
        (tmp_path / "notes" / name).write_text("x")
    failing = "# Fails.\necho to stderr >&2\nexit 3\n"
    model = team_model(
        {
            "ROOT": [
                call(
                    "create_tool",
                    name="count",
                    description="",
                    code=COUNT,
                    language="bash",
                    tests=[
                        {"args": {"folder": "notes"}, "expect": "2"},
                        {"args": {"folder": "notes", "suffix": ".md"}, "check": "result == '1'"},
                    ],
                ),
                call("count", folder="notes"),
                call(
                    "create_tool", name="broken", description="fails", code=failing, language="bash"
                ),
                call("broken"),
                call(
                    "create_tool",
                    name="bad",
                    description="",
                    code="# param x: list\necho",
                    language="bash",
                ),
                call("count", folder="notes", suffix=3),
                lambda m: call("finish", answer="done"),
            ]
        }
    )
    result = root(model, sandbox="bwrap").run_sync("go", workdir=tmp_path)
    assert result.answer == "done"
    (created, _), (used, count), _, (broken, told), (bad, bad_text), (wrong, _), _ = tool_results(
        home, result.run_id
    )
    assert created["ok"] and used["ok"] and count == "2"
    assert broken["error"] == "failed" and "exited with status 3: to stderr" in told
    assert bad["error"] == "failed" and "TYPE one of str, int, float, bool" in bad_text
    assert wrong["error"] == "bad_arguments"  # the declared type is checked before running
    record = ToolLibrary(home / "tools.db").get("count")
    assert record.description.startswith("Count the files in a folder")
    assert record.schema["properties"]["suffix"]["default"] == ".txt"


def test_a_tool_whose_only_test_raises_is_rejected_with_the_traceback(home, tmp_path):
    code = (
        "def main(text: str) -> int:\n    if not text:\n"
        "        raise ValueError('no text given')\n    return len(text)\n"
    )
    model = team_model(
        {
            "ROOT": [
                call(
                    "create_tool",
                    name="length",
                    description="length",
                    code=code,
                    tests=[{"args": {"text": ""}}],
                ),
                lambda m: call("finish", answer="done"),
            ]
        }
    )
    result = root(model).run_sync("go", workdir=tmp_path)
    (rejected, told), _ = tool_results(home, result.run_id)
    assert rejected["error"] == "failed" and "1 of 1 tests failed" in told
    assert "ValueError: no text given" in told and "raise ValueError" in told
    assert ToolLibrary(home / "tools.db").get("length") is None


def test_a_result_too_large_for_the_sandbox_output_is_reported_as_such(home, tmp_path):
    code = "def main(n: int) -> str:\n    '''A long text.'''\n    return 'x' * n\n"
    model = team_model(
        {
            "ROOT": [
                call(
                    "create_tool",
                    name="long",
                    description="long",
                    code=code,
                    tests=[{"args": {"n": 3}, "expect": "xxx"}],
                ),
                call("long", n=5_000_000),
                call("long", n=1000),
                lambda m: call("finish", answer="done"),
            ]
        }
    )
    result = root(model).run_sync("go", workdir=tmp_path)
    _, (large, told), (small, text), _ = tool_results(home, result.run_id)
    assert large["error"] == "failed" and "Traceback" not in told
    assert re.search(
        r"the tool's result is too large \(5000002 bytes; at most \d+\): return "
        r"less, or write it to a file in the work dir and return its path",
        told,
    )
    assert small["ok"] and text == "x" * 1000


def test_importing_main_does_not_make_other_modules_missing(home, tmp_path):
    code = (
        "import __main__\nimport json, os, sys\n\n"
        "def main() -> str:\n    '''Which module runs.'''\n    return __name__\n"
    )
    model = team_model(
        {
            "ROOT": [
                call("create_tool", name="where", description="where", code=code),
                call("where"),
                lambda m: call("finish", answer=last(m)),
            ]
        }
    )
    result = root(model).run_sync("go", workdir=tmp_path)
    (created, told), _, _ = tool_results(home, result.run_id)
    assert created["ok"], told
    assert result.answer == "synthesized_tool"
