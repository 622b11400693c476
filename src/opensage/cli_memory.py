"""`opensage memory ...`: the long-term memory store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from opensage.config import load_config
from opensage.memory.base import MemoryStore, open_store
from opensage.memory.transfer import copy_store
from opensage.screen import CELL, LINE, PAGE, error_line, untrusted

app = typer.Typer(help="The long-term memory.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)


def _store() -> MemoryStore:
    config = load_config()
    return open_store(config.memory_location, config.memory_embedder)


@app.command()
def add(
    text: Annotated[str, typer.Argument(help="What to remember.")],
    kind: Annotated[str, typer.Option(help="fact, lesson, procedure, ...")] = "fact",
    scope: Annotated[str, typer.Option(help="global, or project:PATH")] = "global",
) -> None:
    """Add an entry."""
    out.print(f"added entry {_store().add(text, kind=kind, scope=scope)}")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words to look for.")],
    k: Annotated[int, typer.Option(help="How many.")] = 10,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Search entries, best first."""
    hits = _store().search(query, k=k)
    if as_json:
        out.print_json(json.dumps([h.__dict__ for h in hits]))
        return
    table = Table("id", "kind", "score", "text")
    for h in hits:
        table.add_row(
            str(h.id),
            untrusted(h.kind, LINE, preview=True),
            f"{h.score:.4f}",
            untrusted(h.text, CELL),
        )
    out.print(table)


@app.command("import")
def import_(
    path: Annotated[
        Path,
        typer.Argument(help="A JSON list of {text, kind?, metadata?} or a text file, one per line"),
    ],
    kind: Annotated[str, typer.Option(help="Kind for plain lines.")] = "fact",
    embed_later: Annotated[
        bool,
        typer.Option(
            "--embed-later",
            help="Write the entries without vectors (seconds, not minutes, for a large import): "
            "found by keywords at once, by meaning after `opensage memory reindex`.",
        ),
    ] = False,
) -> None:
    """Import entries in bulk."""
    raw = path.read_text()
    try:
        entries = json.loads(raw)
    except json.JSONDecodeError:
        entries = [{"text": line, "kind": kind} for line in raw.splitlines() if line.strip()]
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and "text" in e for e in entries
    ):
        err.print("[red]error:[/] expected a JSON list of objects with a text field")
        raise typer.Exit(2)
    added = _store().add_many(entries, embed=not embed_later)
    out.print(f"imported {len(added)} entries")
    if embed_later:
        out.print("run `opensage memory reindex` to search them by meaning")


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Counts of entries, by kind, and links."""
    found = _store().stats()
    out.print_json(json.dumps(found)) if as_json else out.print(found)


@app.command()
def copy(
    destination: Annotated[str, typer.Argument(help="A SQLite file, or a postgresql:// URL")],
) -> None:
    """Copy every entry and link into another store: how a memory moves to PostgreSQL (then set
    [memory] url to it)."""
    config = load_config()
    source = _store()
    target = open_store(destination, config.memory_embedder)
    if target.stats()["entries"]:
        err.print("[red]error:[/] the destination already has entries; copy into an empty one")
        raise typer.Exit(2)
    copied = copy_store(source, target)
    out.print(f"copied {len(copied)} entries and {len(source.links())} links")


@app.command()
def reindex() -> None:
    """Give entries written without the configured embedder (or with another) their vectors."""
    store = _store()
    if store.embedder is None:
        err.print(
            "[red]error:[/] no embedder: install the vectors extra "
            "(pip install 'opensage\\[vectors]'), or see \\[memory] embedder"
        )
        raise typer.Exit(2)
    out.print(f"embedded {store.reindex()} entries with {store.embedder.name}")


@app.command()
def show(
    entry: Annotated[int, typer.Argument(help="An entry id.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show an entry and what it is linked to."""
    store = _store()
    hit = store.get(entry)
    if hit is None:
        err.print(error_line(f"no entry {entry}; `opensage memory search WORDS` finds entries"))
        raise typer.Exit(2)
    neighbours = store.neighbours(entry)
    if as_json:
        out.print_json(
            json.dumps(
                {
                    **hit.__dict__,
                    "links": [
                        {"kind": kind, "id": other.id, "text": other.text}
                        for kind, other in neighbours
                    ],
                }
            )
        )
        return
    superseded = f", superseded by #{hit.superseded_by}" if hit.superseded_by else ""
    out.print(
        Text.assemble(
            (f"#{hit.id}", "bold"), " ", untrusted(f"{hit.kind} ({hit.scope}){superseded}", LINE)
        )
    )
    out.print(untrusted(f"{hit.text}\n{json.dumps(hit.metadata)}", PAGE))
    for kind, other in neighbours:
        out.print(
            Text.assemble(
                "  ",
                untrusted(kind, 40, preview=True),
                f": #{other.id} ",
                untrusted(other.text, 100, preview=True),
            )
        )
