"""`opensage ui`: the trace viewer, a local web app over the runs, tools and memory."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.text import Text

from opensage.config import load_config
from opensage.errors import ConfigError
from opensage.screen import error_line

app = typer.Typer(invoke_without_command=True, subcommand_metavar="")  # one command: ui
err = Console(stderr=True)


@app.callback()
def ui(
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free one).")] = 8765,
    host: Annotated[
        str, typer.Option(help="Address to bind. Anything but a loopback address requires a token.")
    ] = "127.0.0.1",
    token: Annotated[
        str | None,
        typer.Option(help="The token to require (default: a new one when not on loopback)."),
    ] = None,
) -> None:
    """The trace viewer: a local web app over the runs, tools and memory (read-only).

    Runs (live ones too) with their agent teams, the tools models wrote, the memory."""
    try:
        from opensage.ui.server import Server
    except ImportError as exc:
        err.print(
            error_line(
                f"the viewer needs the ui extra ({exc.name} is missing): pip install 'opensage[ui]'"
            )
        )
        raise typer.Exit(2) from None
    try:
        server = Server(load_config(), host, port, token)
    except ConfigError as exc:
        err.print(error_line(str(exc)))
        raise typer.Exit(2) from None
    except OSError as exc:
        err.print(
            error_line(
                f"cannot listen on {host}:{port} ({exc.strerror}); choose another "
                "--port, or --port 0 for any free one"
            )
        )
        raise typer.Exit(2) from None
    served = server.served
    err.print(
        Text.assemble(
            ("OpenSage viewer", "bold"),
            " on ",
            (served.url, "cyan"),
            "  (read-only; Ctrl-C stops it)",
        )
    )
    if served.token is not None and token is None:
        err.print(
            f"Bound to {host}, which other machines may reach: every request needs the "
            "token in the address above (or --token to choose it)."
        )
    elif served.token is not None:
        err.print("Every request needs the token given with --token.")
    server.run()
