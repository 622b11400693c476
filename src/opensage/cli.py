"""The `opensage` command line."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Column, Table
from rich.text import Text

from opensage.agent import Agent
from opensage.cli_bench import app as bench_app
from opensage.cli_config import ClearErrors
from opensage.cli_config import app as config_app
from opensage.cli_memory import app as memory_app
from opensage.cli_progress import PlainProgress, Progress
from opensage.cli_sandbox import app as sandbox_app
from opensage.cli_tools import app as tools_app
from opensage.cli_ui import app as ui_app
from opensage.config import load_config
from opensage.core.budget import Limits
from opensage.core.events import EventLog, EventLogError
from opensage.core.loop import RunResult
from opensage.errors import ConfigError
from opensage.models.base import ModelError
from opensage.screen import CELL, LINE, PAGE, error_line, untrusted, visible
from opensage.topology.library import AgentLibrary
from opensage.trace import render_tree, run_tree
from opensage.version import __version__

app = typer.Typer(
    help="OpenSage: agents that design their own agent systems.",
    no_args_is_help=True,
    add_completion=False,
    cls=ClearErrors,
)
runs_app = typer.Typer(help="Inspect and resume recorded runs.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(tools_app, name="tools")
app.add_typer(memory_app, name="memory")
app.add_typer(config_app, name="config")
app.add_typer(ui_app, name="ui")
app.add_typer(bench_app, name="bench")
mcp_app = typer.Typer(help="Model Context Protocol.", no_args_is_help=True)
app.add_typer(mcp_app, name="mcp")


def _print_version(asked: bool) -> None:
    if asked:
        out.print(f"opensage {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    """OpenSage: agents that design their own agent systems."""


@mcp_app.command("serve")
def mcp_serve(
    workdir: Annotated[Path | None, typer.Option(help="Where the tools run (default: .).")] = None,
) -> None:
    """Serve the tool library over stdio to MCP clients; each call runs in the sandbox."""
    from opensage.mcp import serve_library
    from opensage.runtime import run_sandbox

    config = load_config()
    try:
        asyncio.run(
            serve_library(
                config.tools_path,
                (workdir or Path.cwd()).resolve(),
                lambda: run_sandbox(config),
                config.sandbox_limits,
            )
        )
    except ConfigError as exc:
        err.print(error_line(str(exc)))
        raise typer.Exit(2) from None


agents_app = typer.Typer(
    help="The agents models created, kept for later runs.", no_args_is_help=True
)
app.add_typer(agents_app, name="agents")

out = Console()
err = Console(stderr=True)

DEFAULT_KITS = ["files", "shell", "topology", "synthesis", "memory"]


def default_instructions(kits: list[str]) -> str:
    """The root agent's prompt: it teaches team-building when the agent can build a team."""
    name = "root.md" if "topology" in kits else "default.md"
    return (resources.files("opensage") / "prompts" / name).read_text()


def _print_answer(answer: str) -> None:
    """The answer is what the run made, so it is written whole and not through Rich (no markup,
    no wrapping, no highlighting: fast at any size). Piped, it is written exactly as the model
    gave it, for the script that reads it; on a terminal its control characters are shown as
    \\xNN so the model's text cannot drive the terminal (clear it, set the clipboard, fake a
    link)."""
    out.file.write((visible(answer) if out.is_terminal else answer) + "\n")
    out.file.flush()


def _finish(result: RunResult, as_json: bool) -> None:
    if as_json:
        out.print_json(json.dumps(result.to_dict()))
    else:
        style = "green" if result.ok else "red"
        if result.answer:
            _print_answer(result.answer)
        u = result.usage
        err.print(
            Text.assemble(
                (result.stop_reason, style),
                ": ",
                untrusted(result.message, CELL, whole="see runs show --json"),
                f"  ·  run {result.run_id}  ·  {result.steps} steps, "
                f"{u.total_tokens:,} tokens, ${u.cost_usd:.4f}",
            )
        )
    raise typer.Exit(0 if result.ok else 1)


def _drive(coro_factory: Any, as_json: bool, resuming: str | None = None) -> None:
    """Run the coroutine `coro_factory(None)` makes, showing its progress: a live tree of the
    agents on a terminal, plain lines otherwise, nothing with --json."""
    log: EventLog | None = None
    progress: Progress | PlainProgress | None = None
    try:
        if not as_json:
            log = EventLog.open(load_config().events_path)  # the log the run will write
            progress = Progress(err, resuming) if err.is_terminal else PlainProgress(err, resuming)
            if resuming:
                progress.preload(log.events(resuming))
            log.observers.append(progress.observe)
        if isinstance(progress, Progress):
            with progress.live:
                result = asyncio.run(coro_factory(None))
        else:
            result = asyncio.run(coro_factory(None))
    except (ConfigError, ModelError, EventLogError) as exc:
        err.print(error_line(str(exc)))
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        err.print("[yellow]cancelled[/]")
        raise typer.Exit(130) from None
    finally:
        if log is not None and progress is not None and progress.observe in log.observers:
            log.observers.remove(progress.observe)
    _finish(result, as_json)


@app.command()
def run(
    task: Annotated[str, typer.Argument(help="What the agent should do.")],
    model: Annotated[str | None, typer.Option(help="Model spec or profile name.")] = None,
    workdir: Annotated[Path | None, typer.Option(help="Work directory (default: .).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    max_steps: Annotated[int | None, typer.Option(help="Stop after N model calls.")] = None,
    max_cost: Annotated[float | None, typer.Option(help="Stop after spending USD.")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Stop after N tokens.")] = None,
    max_seconds: Annotated[float | None, typer.Option(help="Stop after S seconds.")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint.")] = None,
    kit: Annotated[list[str] | None, typer.Option(help="Kits to give the agent.")] = None,
    sandbox: Annotated[
        str | None, typer.Option(help="Where commands run: bwrap, container or local.")
    ] = None,
    instructions: Annotated[str | None, typer.Option(help="System prompt.")] = None,
) -> None:
    """Run an agent on TASK."""
    kits = kit if kit is not None else DEFAULT_KITS
    agent = Agent(
        "root",
        instructions if instructions is not None else default_instructions(kits),
        model=model,
        kits=kits,
        sandbox=sandbox,
        limits=Limits(max_steps, max_tokens, max_cost, max_seconds),
        base_url=base_url,
    )
    _drive(lambda listener: agent.run(task, workdir=workdir, on_event=listener), as_json)


@agents_app.command("list")
def agents_list(
    query: Annotated[str, typer.Argument(help="Words to look for.")] = "",
    retired: Annotated[bool, typer.Option(help="Include retired agents.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List kept agents (optionally those matching words)."""
    library = AgentLibrary(load_config().agents_path)
    found = library.search(query, limit=1000, include_retired=retired)
    if as_json:
        out.print_json(json.dumps([a.summary() for a in found]))
        return
    # The name is what `agents show` needs: it is never cut, the other columns give way.
    table = Table(Column("agent", no_wrap=True), "version", "tools", "model", "description")
    for a in found:
        name = untrusted(a.name, LINE, preview=True, style="dim" if a.retired else "bold")
        table.add_row(
            name,
            str(a.version),
            untrusted(", ".join(a.tools), CELL),
            untrusted(a.model or "(the caller's)", LINE),
            untrusted(a.description, CELL),
        )
    out.print(table)


@agents_app.command("show")
def agents_show(
    name: Annotated[str, typer.Argument(help="The agent.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show an agent's definition."""
    spec = AgentLibrary(load_config().agents_path).get(name)
    if spec is None:
        err.print(error_line(f"no agent named {name!r}; `opensage agents list` shows them"))
        raise typer.Exit(2)
    if as_json:
        out.print_json(json.dumps(asdict(spec)))
        return
    out.print(
        Text.assemble(
            untrusted(spec.name, LINE, preview=True, style="bold"),
            f" v{spec.version}",
            "  (retired)" if spec.retired else "",
        )
    )
    model = spec.model or "the caller's"
    out.print(
        untrusted(
            f"{spec.description}\ntools: {', '.join(spec.tools) or '(none)'}\nmodel: {model}\n"
            f"created in run {spec.created_run} by {spec.created_by}\n\n{spec.instructions}",
            PAGE,
        )
    )


@runs_app.command("list")
def runs_list(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List recorded runs."""
    log = EventLog.open(load_config().events_path)
    runs = log.runs(limit)
    if as_json:
        out.print_json(json.dumps([asdict(r) for r in runs]))
        return
    # The id is what `runs show` needs: it is never cut, the other columns give way.
    table = Table(Column("run", no_wrap=True), "status", "agent", "model", "steps/cost", "task")
    for r in runs:
        status = r.stop_reason or r.status
        style = {"finished": "green", "running": "cyan", "interrupted": "yellow"}.get(status, "red")
        cost = f"{r.steps} / ${r.usage.get('cost_usd', 0):.4f}" if r.usage else ""
        table.add_row(
            r.run_id,
            Text(status, style),
            untrusted(r.agent, 60, preview=True),
            untrusted(r.model, 60, preview=True),
            cost,
            untrusted(r.task, 60, preview=True),
        )
    out.print(table)


def _run_id(log: EventLog, given: str) -> str:
    found = log.find_run(given)
    if found is None:
        err.print(
            error_line(f"no single run matches {given!r}; `opensage runs list` shows recent runs")
        )
        raise typer.Exit(2)
    return found


@runs_app.command("show")
def runs_show(
    run_id: Annotated[str, typer.Argument(help="A run id, or a unique prefix of one.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show a run as a tree of its steps."""
    log = EventLog.open(load_config().events_path)
    tree = run_tree(log, _run_id(log, run_id))
    if as_json:
        out.print_json(json.dumps(tree))
    else:
        out.print(render_tree(tree))


@runs_app.command("resume")
def runs_resume(
    run_id: Annotated[str, typer.Argument(help="The interrupted run.")],
    model: Annotated[str | None, typer.Option(help="Resume with another model.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Continue a run that was interrupted (its process killed) or cancelled (Ctrl-C)."""
    log = EventLog.open(load_config().events_path)
    found = _run_id(log, run_id)
    start = log.events(found, ("run_started",))[0]
    agent = Agent.from_record(start.data)
    if model:
        agent.model = model
    _drive(lambda listener: agent.resume(found, on_event=listener), as_json, resuming=found)


if __name__ == "__main__":
    app(prog_name="opensage")
