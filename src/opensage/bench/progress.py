"""What a benchmark shows while it runs and when it ends: on a terminal one live line (done of
total, resolved so far, cost, time, what is running), elsewhere one plain line per attempt as it
ends; then a table of every attempt with the totals; and two result sets side by side.
Task ids and messages come from files anyone could have written: they are printed as text."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from opensage.bench.results import Comparison, TaskResult
from opensage.bench.runner import Job
from opensage.screen import LINE, untrusted, visible


class Progress:
    def __init__(self, console: Console, *, live: bool):
        self.console = console
        self.total = 0
        self.done = 0
        self.resolved = 0
        self.errors = 0
        self.cost = 0.0
        self.running: dict[Job, float] = {}
        self.start = time.monotonic()
        # Redrawn four times a second from `render`, so that the time goes on between events.
        self.live = (
            Live(console=console, refresh_per_second=4, transient=True, get_renderable=self.render)
            if live
            else None
        )

    def begin(self, total: int, done: list[TaskResult]) -> None:
        self.total = total
        for r in done:
            self._count(r)
        if done:
            self.console.print(f"resuming: {len(done)} of {total} attempts already have a result")
        if self.live is not None:
            self.live.start()

    def started(self, job: Job) -> None:
        self.running[job] = time.monotonic()

    def finished(self, result: TaskResult) -> None:
        self.running.pop(Job(result.task_id, result.attempt), None)
        self._count(result)
        if self.live is not None:
            return
        self.console.print(
            Text.assemble(
                f"[{self.done}/{self.total}] ",
                untrusted(result.task_id, LINE, preview=True),
                f" #{result.attempt} " if result.attempt else " ",
                _status(result),
                f"  {result.wall_s:.1f} s",
                f"  ${result.cost_usd:.4f}" if result.cost_usd else "",
            )
        )

    def stop(self) -> None:
        if self.live is not None:
            self.live.stop()

    def _count(self, r: TaskResult) -> None:
        self.done += 1
        self.resolved += r.resolved
        self.errors += r.error is not None
        self.cost += r.cost_usd

    def render(self) -> Text:
        elapsed = time.monotonic() - self.start
        running = ", ".join(visible(j.task_id)[:40] for j in list(self.running)[:4])
        more = len(self.running) - 4
        return Text.assemble(
            ("● ", "cyan"),
            (f"{self.done}/{self.total} done", "bold"),
            f"  {self.resolved} resolved",
            f"  {self.errors} errors" if self.errors else "",
            f"  ${self.cost:.4f}  {elapsed:.0f} s",
            (f"  running: {running}" + (f" +{more}" if more > 0 else ""), "dim") if running else "",
        )


def _status(r: TaskResult) -> Text:
    if r.resolved:
        return Text("resolved", "green")
    if r.error is not None:
        return Text(f"error: {r.error['kind']}", "yellow")
    return Text("not resolved", "red")


def results_table(results: list[TaskResult], totals: dict[str, Any]) -> Table:
    repeats = any(r.attempt for r in results)
    table = Table(show_footer=True, box=None, pad_edge=False)
    table.add_column("task", footer="total")
    table.add_column("kind")
    if repeats:
        table.add_column("#", justify="right")
    table.add_column(
        "result", footer=f"{totals['resolved']}/{totals['total']} ({100 * totals['score']:.1f}%)"
    )
    table.add_column("backend")
    table.add_column("steps", justify="right", footer=str(totals["steps"]))
    table.add_column("tokens", justify="right", footer=f"{totals['tokens']:,}")
    table.add_column("cost", justify="right", footer=f"${totals['cost_usd']:.4f}")
    table.add_column("wall", justify="right", footer=f"{totals['wall_s']:.1f} s")
    for r in results:
        row: list[Text | str] = [untrusted(r.task_id, 60, preview=True), r.kind or "?"]
        if repeats:
            row.append(str(r.attempt))
        row += [
            _status(r),
            r.backend or "",
            str(r.steps),
            f"{r.tokens:,}",
            f"${r.cost_usd:.4f}",
            f"{r.wall_s:.1f} s",
        ]
        table.add_row(*row)
    return table


def errors_text(results: list[TaskResult]) -> list[Text]:
    """One line per attempt that ended in an error, with where its log is."""
    lines = []
    for r in results:
        if r.error is not None:
            lines.append(
                Text.assemble(
                    (f"{r.error['kind']}: ", "yellow"),
                    untrusted(r.task_id, 60, preview=True),
                    ": ",
                    untrusted(r.error["message"], 300, preview=True, whole=r.log or ""),
                    (f"  (log: {r.log})" if r.log else "", "dim"),
                )
            )
    return lines


def comparison_table(comparison: Comparison, names: tuple[str, str]) -> Table:
    a, b = comparison.totals
    table = Table(show_footer=True, box=None, pad_edge=False)
    table.add_column("task", footer="resolved")
    table.add_column(
        visible(names[0]),
        justify="center",
        footer=f"{a['resolved']}/{a['total']} ({100 * a['score']:.1f}%)",
    )
    table.add_column(
        visible(names[1]),
        justify="center",
        footer=f"{b['resolved']}/{b['total']} ({100 * b['score']:.1f}%)",
    )
    table.add_column("", footer="")
    for task, ra, rb, mark in comparison.rows:
        style = {"+": "green", "-": "red"}.get(mark, "")
        table.add_row(
            untrusted(task, 60, preview=True),
            ra or "—",
            rb or "—",
            Text({"+": "gained", "-": "lost"}.get(mark, ""), style),
        )
    return table
