"""`opensage tools ...`: the library of model-written tools."""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from opensage.config import load_config
from opensage.runtime import run_sandbox
from opensage.synthesis.library import ToolLibrary, ToolRecord
from opensage.synthesis.runner import ToolRunner

app = typer.Typer(help="The tools models wrote, kept for later runs.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _library() -> ToolLibrary:
    return ToolLibrary(load_config().home / "tools.db")


def _get(name: str) -> ToolRecord:
    record = _library().get(name)
    if record is None:
        err.print(f"[red]error:[/] no tool named {name!r}")
        raise typer.Exit(2)
    return record


@app.command("list")
def list_(query: Annotated[str, typer.Argument(help="Words to look for.")] = "",
          as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List kept tools, most relevant and most used first."""
    found = _library().search(query, limit=1000)
    if as_json:
        out.print_json(json.dumps([r.summary() for r in found]))
        return
    table = Table("tool", "version", "calls", "success", "description")
    for r in found:
        rate = "" if r.success_rate is None else f"{r.success_rate:.0%}"
        table.add_row(r.name, str(r.version), str(r.calls), rate, r.description)
    out.print(table)


@app.command()
def show(name: Annotated[str, typer.Argument(help="The tool.")]) -> None:
    """Show a tool's description, parameters, tests and source."""
    r = _get(name)
    out.print(f"[bold]{r.name}[/] v{r.version}: {r.description}\n"
              f"made in run {r.created_run} by {r.created_by}; {r.calls} calls\n"
              f"parameters: {json.dumps(r.schema.get('properties', {}))}\n"
              f"tests: {json.dumps(r.tests)}\n")
    out.print(Syntax(r.code, "python"))


@app.command()
def test(name: Annotated[str, typer.Argument(help="The tool.")]) -> None:
    """Run a tool's tests again, in the sandbox."""
    r = _get(name)
    if not r.tests:
        out.print(f"{name} has no tests")
        return
    config = load_config()
    with tempfile.TemporaryDirectory(prefix="opensage-tool-test-") as folder:
        runner = ToolRunner(lambda: run_sandbox(config), Path(folder), config.sandbox_limits)
        ran = asyncio.run(runner.test(r.code, r.tests))
    report = ran.data.get("tests")
    if report is None:
        err.print(f"[red]the tests could not run:[/] {ran.data.get('error')}")
        raise typer.Exit(1)
    for entry in report:
        mark = "[green]pass[/]" if entry["passed"] else f"[red]FAIL[/] {entry.get('error')}"
        out.print(f"{mark}  args {json.dumps(entry['args'])}")
    passed = sum(e["passed"] for e in report)
    out.print(f"{passed} of {len(report)} tests passed")
    raise typer.Exit(0 if passed == len(report) else 1)


@app.command()
def rm(name: Annotated[str, typer.Argument(help="The tool.")]) -> None:
    """Remove a tool (all its versions) from the library."""
    if not _library().remove(name):
        err.print(f"[red]error:[/] no tool named {name!r}")
        raise typer.Exit(2)
    out.print(f"removed {name}")
