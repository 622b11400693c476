"""`opensage bench import swe|terminal|cybergym`: the public benchmarks' own files (which the
user has fetched; nothing is downloaded) written as a suite that `opensage bench run` reads."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.text import Text

from opensage.errors import ConfigError
from opensage.screen import error_line, untrusted

if TYPE_CHECKING:  # the harness is imported when an import runs, not with the CLI
    from opensage.bench.importers import Report

app = typer.Typer(
    help="Write a public benchmark's files (SWE-bench rows and clones, Terminal-Bench task "
    "folders, CyberGym's task files) as a suite for `opensage bench run`. Nothing is "
    "downloaded: see docs/public-benchmarks.md for where the files come from.",
    no_args_is_help=True,
)
err = Console(stderr=True)

OUTPUT = typer.Option("--output", "-o", help="The suite folder to write (made if need be).")
FORCE = typer.Option(help="Replace task folders already in the output (else they are kept).")
JSON = typer.Option("--json", help="Print one JSON object: output, imported, skipped.")


@app.command("swe")
def swe(
    rows: Annotated[
        Path, typer.Argument(help="SWE-bench rows: a JSONL file, or a JSON list of rows.")
    ],
    repos: Annotated[
        Path,
        typer.Option(
            help="The folder of local git clones: <owner>__<name>/ (or <instance_id>/, "
            "<owner>/<name>/, <name>/) for each repository the rows name."
        ),
    ],
    output: Annotated[Path, OUTPUT],
    instances: Annotated[
        str | None, typer.Option(help="Only these instance_ids, comma-separated.")
    ] = None,
    test_cmd: Annotated[
        str | None,
        typer.Option(
            help="The test command for every row (default: pytest, for rows whose test ids "
            "are pytest's). One that is not pytest must write JUnit XML to $JUNIT_XML."
        ),
    ] = None,
    force: Annotated[bool, FORCE] = False,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """SWE-bench rows and local clones into SWE tasks (instance.json and repo/ at the row's
    base_commit)."""
    from opensage.bench.importers.swe import import_swe

    wanted = _ids(instances)
    _finish(
        lambda: import_swe(rows, repos, output, instances=wanted, test_cmd=test_cmd, force=force),
        as_json,
    )


@app.command("terminal")
def terminal(
    source: Annotated[
        Path,
        typer.Argument(
            help="A folder of Terminal-Bench tasks (2.0 / Harbor, or 1.x), or one task."
        ),
    ],
    output: Annotated[Path, OUTPUT],
    force: Annotated[bool, FORCE] = False,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """Terminal-Bench 2.0 (Harbor) tasks copied and checked; Terminal-Bench 1 tasks converted."""
    from opensage.bench.importers.terminal import import_terminal

    _finish(lambda: import_terminal(source, output, force=force), as_json)


@app.command("cybergym")
def cybergym(
    source: Annotated[
        Path,
        typer.Argument(
            help="CyberGym's data folder (tasks.json and data/arvo/<id>/...), its data/ "
            "folder, or one task's folder."
        ),
    ],
    output: Annotated[Path, OUTPUT],
    level: Annotated[
        int,
        typer.Option(
            help="Which of the task's files to write: 0 the source only, 1 and "
            "description.txt, 2 and error.txt, 3 and patch.diff (`bench run --level` then "
            "chooses what the agent sees, up to this).",
            min=0,
            max=3,
        ),
    ] = 3,
    tasks: Annotated[
        str | None, typer.Option(help="Only these task ids (arvo:1065,...), comma-separated.")
    ] = None,
    build_command: Annotated[
        str | None,
        typer.Option(
            help="The build command for every task (default: the OSS-Fuzz build.sh at the "
            "source's root)."
        ),
    ] = None,
    binary: Annotated[
        str | None,
        typer.Option(
            help="The program to run on the PoC, relative to the source (default: "
            "out/NAME, the fuzz target error.txt shows)."
        ),
    ] = None,
    force: Annotated[bool, FORCE] = False,
    as_json: Annotated[bool, JSON] = False,
) -> None:
    """CyberGym's task files into PoC tasks (task.toml, the source archives, the level's
    files)."""
    from opensage.bench.importers.cybergym import import_cybergym

    wanted = _ids(tasks)
    _finish(
        lambda: import_cybergym(
            source,
            output,
            level=level,
            tasks=wanted,
            build_command=build_command,
            binary=binary,
            force=force,
        ),
        as_json,
    )


def _ids(text: str | None) -> set[str] | None:
    return None if text is None else {i.strip() for i in text.split(",") if i.strip()}


def _finish(run: Callable[[], Report], as_json: bool) -> None:
    """Run the import; print what it wrote and what it skipped. Exit 0 when every task was
    imported, 1 when some were skipped, 2 when the input could not be read at all."""
    try:
        report = run()
    except ConfigError as exc:
        err.print(error_line(str(exc)))
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(
            json.dumps(
                {
                    "output": str(report.output),
                    "imported": report.imported,
                    "skipped": [{"task": t, "error": e} for t, e in report.skipped],
                }
            )
            + "\n"
        )
    else:
        for task, why in report.skipped:
            err.print(Text.assemble(("skipped", "yellow"), " ", untrusted(f"{task}: {why}")))
        err.print(
            Text(
                f"imported {len(report.imported)} task(s) into {report.output}"
                + (f"; skipped {len(report.skipped)}" if report.skipped else "")
            )
        )
    if report.skipped or not report.imported:
        raise typer.Exit(1)
