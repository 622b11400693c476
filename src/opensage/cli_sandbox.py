"""`opensage sandbox ...`: run a command in a sandbox from the shell."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from opensage.config import load_config
from opensage.runtime import run_sandbox
from opensage.sandbox import SandboxUnavailable
from opensage.screen import error_line

app = typer.Typer(help="Run commands in a sandbox.", no_args_is_help=True)
err = Console(stderr=True)


@app.command("exec", context_settings={"allow_interspersed_args": False})
def exec_(
    cmd: Annotated[list[str], typer.Argument(help="The command and its arguments (after --).")],
    backend: Annotated[str | None, typer.Option(help="bwrap, container or local.")] = None,
    workdir: Annotated[Path | None, typer.Option(help="The writable dir (default: .).")] = None,
    timeout: Annotated[float | None, typer.Option(help="Wall-time limit in seconds.")] = None,
    memory_mb: Annotated[int | None, typer.Option(help="Memory limit in MB.")] = None,
    network: Annotated[bool, typer.Option(help="Give the command the network.")] = False,
) -> None:
    """Run CMD in a sandbox; the exit code is the command's (124 if it timed out)."""
    config = load_config()
    limits = replace(config.sandbox_limits, network=network or config.sandbox_limits.network)
    if memory_mb is not None:
        limits = replace(limits, memory_mb=memory_mb)
    try:
        sandbox = run_sandbox(config, backend)
    except SandboxUnavailable as exc:
        err.print(error_line(str(exc)))
        raise typer.Exit(2) from None
    folder = (workdir or Path.cwd()).resolve()
    if not folder.is_dir():
        err.print(
            error_line(
                f"work dir {folder} does not exist or is not a directory; give "
                "an existing one with --workdir"
            )
        )
        raise typer.Exit(2)
    result = asyncio.run(sandbox.exec(cmd, workdir=folder, timeout_s=timeout, limits=limits))
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    if result.stdout_truncated or result.stderr_truncated:
        err.print(f"[yellow]output was cut to {limits.output_bytes} bytes per stream[/]")
    if result.timed_out:
        err.print(f"[yellow]timed out after {timeout:g} s; the sandbox was killed[/]")
        raise typer.Exit(124)
    if result.limit:
        err.print(f"[yellow]stopped by the {result.limit} limit[/]")
    raise typer.Exit(result.exit_code)
