"""`opensage tools ...`: the library of model-written tools."""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Column, Table
from rich.text import Text

from opensage.config import load_config
from opensage.runtime import run_sandbox
from opensage.screen import CELL, LINE, PAGE, error_line, untrusted, visible
from opensage.synthesis.library import ToolLibrary, ToolRecord
from opensage.synthesis.runner import ToolRunner

app = typer.Typer(help="The tools models wrote, kept for later runs.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _library() -> ToolLibrary:
    return ToolLibrary(load_config().tools_path)


def _get(name: str) -> ToolRecord:
    record = _library().get(name)
    if record is None:
        err.print(error_line(f"no tool named {name!r}; `opensage tools list` shows them"))
        raise typer.Exit(2)
    return record


@app.command("list")
def list_(
    query: Annotated[str, typer.Argument(help="Words to look for.")] = "",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List kept tools, most relevant and most used first."""
    found = _library().search(query, limit=1000)
    if as_json:
        out.print_json(json.dumps([r.summary() for r in found]))
        return
    # The name is what `tools show` needs: it is never cut, the other columns give way.
    table = Table(Column("tool", no_wrap=True), "version", "calls", "success", "description")
    for r in found:
        rate = "" if r.success_rate is None else f"{r.success_rate:.0%}"
        table.add_row(
            untrusted(r.name, LINE, preview=True),
            str(r.version),
            str(r.calls),
            rate,
            untrusted(r.description, CELL),
        )
    out.print(table)


@app.command()
def show(
    name: Annotated[str, typer.Argument(help="The tool.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show a tool's description, parameters, tests and source."""
    r = _get(name)
    if as_json:
        out.print_json(json.dumps(asdict(r)))
        return
    out.print(
        Text.assemble(
            untrusted(r.name, LINE, preview=True, style="bold"),
            f" v{r.version}: ",
            untrusted(r.description, CELL),
        )
    )
    out.print(
        untrusted(
            f"made in run {r.created_run} by {r.created_by}; {r.calls} calls\n"
            f"parameters: {json.dumps(r.schema.get('properties', {}))}\n"
            f"tests: {json.dumps(r.tests)}\n",
            PAGE,
        )
    )
    out.print(Syntax(visible(r.code[:PAGE]), "python"))
    if len(r.code) > PAGE:
        out.print(f"[dim][... {len(r.code) - PAGE:,} more characters; see --json][/]")


@app.command()
def test(name: Annotated[str, typer.Argument(help="The tool.")]) -> None:
    """Run a tool's tests again, in the sandbox."""
    r = _get(name)
    if not r.tests:
        out.print(untrusted(f"{name} has no tests", LINE))
        return
    config = load_config()
    with tempfile.TemporaryDirectory(prefix="opensage-tool-test-") as folder:
        runner = ToolRunner(lambda: run_sandbox(config), Path(folder), config.sandbox_limits)
        ran = asyncio.run(runner.test(r.code, r.tests))
    report = ran.data.get("tests")
    if report is None:
        err.print(error_line(str(ran.data.get("error")), "the tests could not run:"))
        raise typer.Exit(1)
    for entry in report:
        mark = (
            Text("pass", "green")
            if entry["passed"]
            else Text.assemble(("FAIL ", "red"), untrusted(str(entry.get("error")), CELL, whole=""))
        )
        out.print(Text.assemble(mark, "  args ", untrusted(json.dumps(entry["args"]), CELL)))
    passed = sum(e["passed"] for e in report)
    out.print(f"{passed} of {len(report)} tests passed")
    raise typer.Exit(0 if passed == len(report) else 1)


@app.command()
def rm(name: Annotated[str, typer.Argument(help="The tool.")]) -> None:
    """Remove a tool (all its versions) from the library."""
    if not _library().remove(name):
        err.print(error_line(f"no tool named {name!r}; `opensage tools list` shows them"))
        raise typer.Exit(2)
    out.print(Text.assemble("removed ", untrusted(name, LINE, preview=True)))
