"""`opensage config ...`: the configuration files, and which of them are trusted (see config.py);
and `ClearErrors`, which makes a configuration or state error of any command one line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup, _click  # Typer's own copy of click

from opensage.config import CONFIG_NAME, opensage_home, trust_file
from opensage.errors import ConfigError
from opensage.screen import error_line, untrusted

app = typer.Typer(help="The configuration files.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


class ClearErrors(TyperGroup):
    """The top command group: a ConfigError from any command (a setup mistake, a refused or
    malformed opensage.toml, a damaged store, an unusable OPENSAGE_HOME) is printed as one
    error, exit status 2, instead of a traceback."""

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            err.print(error_line(str(exc)), soft_wrap=True)
            raise typer.Exit(2) from None


@app.command()
def trust(
    path: Annotated[Path, typer.Argument(help="The file (default: ./opensage.toml).")] = Path(
        CONFIG_NAME
    ),
) -> None:
    """Trust a project's opensage.toml as it is now: it may then set MCP servers, the sandbox,
    model endpoints and the memory's database. Any change to the file ends the trust."""
    allowed = trust_file(path, opensage_home())  # not load_config: it would refuse the file
    # The file may have been planted: what it sets is shown literally, escape sequences and all,
    # so none can hide what is being trusted.
    out.print(
        untrusted(f"trusted {path.resolve()} as it is now; any change to it ends the trust"),
        soft_wrap=True,
    )
    for key, what in allowed.items():
        out.print(untrusted(f"  {key}: {what}"), soft_wrap=True)
    if not allowed:
        out.print("  (it sets nothing that needed trust)")
