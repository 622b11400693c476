"""`opensage bench run|compare`: run an agent on a suite of tasks, and compare two runs."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from opensage.bench import RETRIES
from opensage.cli_bench_import import app as import_app
from opensage.config import load_config
from opensage.errors import ConfigError
from opensage.screen import error_line

app = typer.Typer(
    help="Run agents on benchmark suites (terminal, SWE and PoC tasks) and compare runs.",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")
out = Console()
err = Console(stderr=True)

AGENT_HELP = (
    "swe, swe-guided (SWE tasks, for small local models), terminal or poc (OpenSage "
    "agents built from the kits, run with --model), "
    "oracle (applies each task's known solution: checks the suite), null (does "
    "nothing), or path/to/file.py:NAME, your own agent: a class, an object with "
    "`async solve(task)` or an async function, loaded from that file and run in this "
    "process as code you trust (the commands it sends to the task's sandbox run "
    "isolated)."
)


@app.command("run")
def run(
    path: Annotated[
        Path, typer.Argument(help="A suite (a folder of task folders) or one task folder.")
    ],
    agent: Annotated[str, typer.Option(help=AGENT_HELP)] = "oracle",
    model: Annotated[
        str | None, typer.Option(help="The model spec or profile, for model-based agents.")
    ] = None,
    parallel: Annotated[int, typer.Option(help="Tasks run at once.")] = 1,
    engine: Annotated[
        str,
        typer.Option(
            help="local (this process), or ray (Ray tasks on a cluster, or on a local Ray; "
            "needs pip install 'opensage[ray]')."
        ),
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            help="The Ray cluster to run on with --engine ray (default: RAY_ADDRESS, else a "
            "local Ray started for the run).",
            envvar="RAY_ADDRESS",
        ),
    ] = None,
    repeat: Annotated[int, typer.Option(help="Attempts at each task.")] = 1,
    output: Annotated[
        Path | None,
        typer.Option(
            help="Where results go (default: "
            "bench-results/SUITE-AGENT[-MODEL]); "
            "running again into it resumes."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object: total, resolved, score, results.")
    ] = False,
    level: Annotated[
        int,
        typer.Option(
            help="What PoC tasks show: 0 the source only, 1 and "
            "its description, 2 and the crash's error, 3 and "
            "the fix.",
            min=0,
            max=3,
        ),
    ] = 1,
    sandbox: Annotated[
        str | None,
        typer.Option(
            help="The sandbox backend for SWE and PoC tasks (default: the configured one)."
        ),
    ] = None,
    retries: Annotated[
        int, typer.Option(help="Tries more after an infrastructure error.", min=0)
    ] = RETRIES,
    keep: Annotated[
        bool,
        typer.Option(help="Keep each attempt's work and verification folders under OUTPUT/work."),
    ] = False,
) -> None:
    """Run an agent on every task of a suite; results are appended to OUTPUT/results.jsonl as
    each task ends, so running the same command again resumes where it stopped."""
    # The harness (and the kits it verifies with) is imported when it runs, not with the CLI.
    from opensage.bench.progress import Progress, errors_text, results_table
    from opensage.bench.results import summary
    from opensage.bench.runner import Settings, make_engine, run_benchmark

    try:
        config = load_config()
        folder = output or default_output(path, agent, model)
        settings = Settings(
            path.resolve(),
            folder.resolve(),
            config.home.resolve(),
            agent,
            model,
            sandbox or config.sandbox_backend,
            config.sandbox_image,
            level,
            repeat,
            retries,
            keep,
            config.sandbox_limits,
        )
        chosen = make_engine(engine, parallel, ray_address)
    except ConfigError as exc:
        err.print(error_line(str(exc)))
        raise typer.Exit(2) from None
    progress = Progress(err, live=err.is_terminal and not as_json)
    try:
        results = asyncio.run(
            run_benchmark(settings, chosen, progress.started, progress.finished, progress.begin)
        )
    except ConfigError as exc:
        progress.stop()
        err.print(error_line(str(exc)))
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        progress.stop()
        err.print(
            f"interrupted: {progress.done} of {progress.total} attempts have a result in "
            f"{folder}; run the same command again to resume"
        )
        raise typer.Exit(130) from None
    progress.stop()
    meta = settings.meta()
    totals = summary(results, meta)
    if as_json:
        sys.stdout.write(json.dumps({**totals, "output": str(settings.output)}) + "\n")
    else:
        out.print(results_table(results, totals))
        for line in errors_text(results):
            err.print(line)
        err.print(f"results in {settings.output}")
    raise typer.Exit(1 if any(r.error and r.error["kind"] == "infra" for r in results) else 0)


def default_output(suite: Path, agent: str, model: str | None) -> Path:
    """bench-results/SUITE-AGENT[-MODEL]: the same command finds the same folder again."""
    file, colon, name = agent.rpartition(":")
    label = f"{Path(file).stem}-{name}" if colon and file.endswith(".py") else agent
    parts = [suite.resolve().name, label] + ([model] if model else [])
    return Path("bench-results") / re.sub(r"[^A-Za-z0-9_.-]+", "_", "-".join(parts))


@app.command("compare")
def compare_(
    a: Annotated[Path, typer.Argument(help="A benchmark's output dir (or its results.jsonl).")],
    b: Annotated[Path, typer.Argument(help="Another one.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Two result sets side by side: per task, the totals, and which tasks flipped."""
    from opensage.bench.progress import comparison_table
    from opensage.bench.results import compare, read_results

    try:
        (meta_a, ra), (meta_b, rb) = read_results(a), read_results(b)
    except ConfigError as exc:
        err.print(error_line(str(exc)))
        raise typer.Exit(2) from None
    result = compare(ra, rb)
    if as_json:
        ta, tb = result.totals
        sys.stdout.write(
            json.dumps(
                {
                    "a": {"path": str(a), **{k: ta[k] for k in ("total", "resolved", "score")}},
                    "b": {"path": str(b), **{k: tb[k] for k in ("total", "resolved", "score")}},
                    "tasks": [
                        {"task_id": t, "a": x, "b": y, "flip": {"+": "gained", "-": "lost"}.get(m)}
                        for t, x, y, m in result.rows
                    ],
                    "gained": result.gained,
                    "lost": result.lost,
                }
            )
            + "\n"
        )
        return
    names = (_label(a, meta_a), _label(b, meta_b))
    out.print(comparison_table(result, names))
    out.print(
        f"flipped: {len(result.gained)} gained, {len(result.lost)} lost "
        f"(resolved by most attempts in {names[1]} and not in {names[0]}, or the other "
        "way round)"
    )


def _label(path: Path, meta: dict[str, object]) -> str:
    what = " ".join(str(meta[k]) for k in ("agent", "model") if meta.get(k))
    return f"{path.name} ({what})" if what else path.name
