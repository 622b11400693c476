"""Text a model or a user wrote is printed as text: Rich markup in it is shown, not parsed (it
used to crash the command), terminal control sequences are shown as \\xNN, never sent to the
terminal, and long text is cut for the screen."""

import io
import json

import pytest
from rich.console import Console
from typer.testing import CliRunner

from opensage import cli, cli_memory, cli_tools
from opensage.cli import app
from opensage.models import tool_call
from opensage.synthesis.library import ToolLibrary, ToolRecord
from opensage.topology.library import AgentLibrary, AgentSpec

runner = CliRunner()

# Markup that does not parse, markup that does, a clear-screen, an OSC 52 clipboard write ended
# by BEL, a one-byte (C1) CSI, a backspace and a carriage return that would overwrite the line.
HOSTILE = "[/bold] [red]x[/red] \x1b[2J \x1b]52;c;aGk=\x07 \x9b31m \b [/x] line\rfake"
SHOWN = (
    "[/bold]",
    "[red]x[/red]",
    "\\x1b[2J",
    "\\x1b]52;c;aGk=\\x07",
    "\\x9b31m",
    "\\x08",
    "[/x]",
)  # and the carriage return: a space in one-line previews, \x0d in full views
CONTROLS = ("\x1b", "\x07", "\x9b", "\b", "\r")


@pytest.fixture(autouse=True)
def wide(monkeypatch):
    """A wide screen, so no table cell or tree line wraps in the middle of what is looked for."""
    for console in (cli.out, cli.err, cli_tools.out, cli_tools.err, cli_memory.out, cli_memory.err):
        monkeypatch.setattr(console, "_width", 400)


@pytest.fixture
def script(tmp_path):
    def write(*steps):
        path = tmp_path / "script.json"
        path.write_text(json.dumps(list(steps)))
        return f"scripted:{path}"

    return write


def invoke(*args):
    return runner.invoke(app, list(args))


def shows_literally(result, text=None):
    assert result.exit_code == 0, (result.output, result.exception)
    for control in CONTROLS:
        assert control not in result.output
    for part in SHOWN:
        assert part in (result.output if text is None else text)


def test_runs_list_and_show_print_a_hostile_task_reply_result_and_answer(script, tmp_path):
    (tmp_path / "in.txt").write_text(HOSTILE)
    spec = script(
        {"text": HOSTILE, "tool_calls": [{"name": "read_file", "arguments": {"path": "in.txt"}}]},
        tool_call("finish", answer=HOSTILE),
    )
    ran = invoke("run", HOSTILE, "--model", spec, "--json")
    run_id = json.loads(ran.stdout)["run_id"]

    shows_literally(invoke("runs", "list"))
    shown = invoke("runs", "show", run_id)
    shows_literally(shown)
    task, reply, result, *_, answer = (
        line for line in shown.stdout.splitlines() if "[/bold]" in line
    )
    assert task.startswith(f"run {run_id}  [/bold]")
    assert "step 1" in reply and "[red]x[/red]" in reply
    assert "ok" in result and "\\x1b]52;c;aGk=\\x07" in result  # read_file's numbered lines
    assert "run finished" in answer and "answer: [/bold]" in answer

    tree = json.loads(invoke("runs", "show", run_id, "--json").stdout)  # print_json: no markup
    assert tree["data"]["task"] == HOSTILE


def test_a_model_error_body_is_printed_literally(script):
    ran = invoke("run", "task", "--model", script({"raise": "error", "message": HOSTILE}))
    assert ran.exit_code == 1
    for control in CONTROLS:
        assert control not in ran.stderr
    assert "[/bold]" in ran.stderr and "\\x1b]52;c;aGk=\\x07" in ran.stderr
    run_id = json.loads(invoke("runs", "list", "--json").stdout)[0]["run_id"]
    shows_literally(invoke("runs", "show", run_id))


def test_the_answer_piped_is_written_whole_and_exact(script):
    ran = invoke("run", "task", "--model", script(tool_call("finish", answer=HOSTILE)))
    assert ran.exit_code == 0, ran.output
    assert ran.stdout == HOSTILE + "\n"  # scripts read it byte for byte


def test_the_answer_on_a_terminal_shows_control_characters(script, monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(cli, "out", Console(file=screen, force_terminal=True, width=80))
    ran = invoke("run", "task", "--model", script(tool_call("finish", answer=HOSTILE)))
    assert ran.exit_code == 0, ran.output
    printed = screen.getvalue()
    for control in CONTROLS:
        assert control not in printed
    for part in SHOWN:
        assert part in printed


def test_a_ten_megabyte_answer_is_piped_whole_and_previewed_by_runs_show(script):
    answer = "a long answer [b] http://example.com/x 42\n" * 250_000
    ran = invoke("run", "task", "--model", script(tool_call("finish", answer=answer)))
    assert ran.exit_code == 0, ran.output
    assert ran.stdout == answer + "\n"  # not wrapped, highlighted or cut

    run_id = json.loads(invoke("runs", "list", "--json").stdout)[0]["run_id"]
    shown = invoke("runs", "show", run_id)
    assert shown.exit_code == 0
    assert len(shown.stdout) < 100_000
    assert "more characters; see runs show --json]" in shown.stdout


def test_tools_list_and_show_print_a_hostile_tool(home):
    ToolLibrary(home / "tools.db").add(
        ToolRecord(
            name="hostile",
            description=HOSTILE,
            code=f"def run(text):\n    return {HOSTILE!r}\n",
            schema={"properties": {"text": {"type": "string", "description": HOSTILE}}},
            tests=[{"args": {"text": HOSTILE}}],
        )
    )
    shows_literally(invoke("tools", "list"))
    shown = invoke("tools", "show", "hostile")
    shows_literally(shown, shown.stdout.split("parameters:")[0])
    assert "[/bold]" in shown.stdout.split("tests:")[1]  # the tests and code, JSON-escaped


def test_agents_list_and_show_print_a_hostile_agent(home):
    AgentLibrary(home / "agents.db").save(
        AgentSpec(name="hostile", instructions=HOSTILE, tools=["read_file"], description=HOSTILE)
    )
    shows_literally(invoke("agents", "list"))
    shows_literally(invoke("agents", "show", "hostile"))


def test_memory_search_and_show_print_a_hostile_entry():
    assert invoke("memory", "add", HOSTILE).exit_code == 0
    shows_literally(invoke("memory", "search", "red"))
    shown = invoke("memory", "show", "1")
    shows_literally(shown)
    assert "line\\x0dfake" in shown.stdout


def test_long_text_is_cut_for_the_screen_with_a_note(home):
    instructions = "follow the plan. " * 60_000  # about a megabyte
    AgentLibrary(home / "agents.db").save(
        AgentSpec(name="verbose", instructions=instructions, tools=[], description="talks a lot")
    )
    shown = invoke("agents", "show", "verbose")
    assert shown.exit_code == 0
    assert len(shown.stdout) < 100_000
    assert "more characters; see --json]" in " ".join(shown.stdout.split())
    assert (
        json.loads(invoke("agents", "show", "verbose", "--json").stdout)["instructions"]
        == instructions
    )


def test_bidirectional_overrides_are_shown_not_obeyed():
    from opensage.screen import untrusted, visible

    # "exe.txt" with a right-to-left override reads as "txt.exe" on a terminal that obeys it.
    name = "report\u202etxt.exe"
    assert visible(name) == "report\\u202etxt.exe"
    assert "\u202e" not in untrusted(name).plain


def test_trusting_a_file_shows_its_settings_literally(tmp_path, monkeypatch):
    from opensage.cli import app

    monkeypatch.chdir(tmp_path)
    (tmp_path / "opensage.toml").write_text('[mcp.servers."x\\u001b[2Jy"]\ncommand = "true"\n')
    result = CliRunner().invoke(app, ["config", "trust"])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\\x1b[2J" in result.output
