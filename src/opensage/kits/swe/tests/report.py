"""What a test run found, and how the model reads it: each test's outcome with its message and
the place it failed, the runner's own totals, and an answer that fits the tool's limit (the
failures that fit in full, the rest by id, then the output's tail)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from opensage.kits.files import workdir_relative
from opensage.kits.output import LIMIT

MAX_FAILURES = 30  # listed in full; the rest by id
MESSAGE_LINES = 12
MESSAGE_CHARS = 1_500
TAIL_LINES = 60
TAIL_CHARS = 6_000


@dataclass
class TestCase:
    id: str  # as the runner takes it back
    outcome: str  # passed | failed | error | skipped
    message: str = ""
    location: str = ""  # file:line where it failed (relative to the work dir when inside it)
    detail: str = ""  # more of where: the test's own line when it failed deeper


@dataclass
class TestReport:
    runner: str
    command: str
    cases: list[TestCase] = field(default_factory=list)
    exit_code: int = 0
    timed_out: bool = False
    output: str = ""  # the raw output, for its tail
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] | None = None  # the runner's own totals, when it gives them

    def count(self, outcome: str) -> int:
        if self.counts is not None and outcome in self.counts:
            return self.counts[outcome]
        return sum(1 for c in self.cases if c.outcome == outcome)

    def summary(self) -> str:
        line = f"{self.count('passed')} passed, {self.count('failed')} failed"
        if errors := self.count("error"):
            line += f", {errors} errors"
        if skipped := self.count("skipped"):
            line += f", {skipped} skipped"
        return line

    def render(self, budget: int = LIMIT - 1_000) -> str:
        """The report as the model reads it, in about `budget` characters: the failures that
        fit are listed in full and the others by id, then as much of the output's tail as is
        left room for."""
        lines = [self.summary(), f"runner: {self.runner} (`{self.command}`)"]
        if self.timed_out:
            lines.append(
                "the run TIMED OUT: the counts cover the tests that ended before it; "
                "select fewer tests, or give a larger timeout_s"
            )
        lines += self.notes
        room = budget - min(TAIL_CHARS, budget // 4)  # for the failures; the tail after
        bad = [c for c in self.cases if c.outcome in ("failed", "error")]
        listed = 0
        for case in bad[:MAX_FAILURES]:
            block = [f"{'FAILED' if case.outcome == 'failed' else 'ERROR'} {case.id}"]
            if case.message:
                block += ["    " + m for m in _clip(case.message).splitlines()]
            if case.location:
                block.append(
                    f"    at {case.location}" + (f" ({case.detail})" if case.detail else "")
                )
            if listed and _size(lines) + _size(block) > room:
                break
            lines += block
            listed += 1
        if len(bad) > listed:
            rest = ", ".join(c.id for c in bad[listed : listed + 100])
            more = f" (and {len(bad) - listed - 100} more)" if len(bad) > listed + 100 else ""
            lines.append(
                _clip(
                    f"... and {len(bad) - listed} more: {rest}{more}",
                    3,
                    max(200, room - _size(lines)),
                )
            )
        if bad:
            lines.append("rerun some with run_tests([id, ...])")
        tail, cut = _tail(self.output, min(TAIL_CHARS, max(500, budget - _size(lines) - 300)))
        if tail:
            lines.append(f"--- output (last lines; exit code {self.exit_code}) ---")
            lines.append(tail)
            if cut:
                lines.append(
                    f"[the output's first {cut} lines are left out: run "
                    f"`{self.command} > out.txt 2>&1` with run_command and view "
                    "out.txt to read it whole]"
                )
        else:
            lines.append(f"(no output; exit code {self.exit_code})")
        return "\n".join(lines)


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)


class ReportError(Exception):
    pass


def _clip(text: str, lines: int = MESSAGE_LINES, chars: int = MESSAGE_CHARS) -> str:
    text = text.strip("\n")
    kept = text.splitlines()
    cut = len(kept) > lines
    text = "\n".join(kept[:lines])
    if len(text) > chars:
        text, cut = text[:chars], True
    return text + ("\n[...]" if cut else "")


def _tail(output: str, chars: int = TAIL_CHARS) -> tuple[str, int]:
    """The last lines of the output (at most TAIL_LINES and `chars`), and how many lines
    before them are left out."""
    lines = output.rstrip().splitlines()
    kept = lines[-TAIL_LINES:]
    text = "\n".join(kept)
    if len(text) > chars:
        text = text[-chars:]
        text = text[text.find("\n") + 1 :] if "\n" in text else text
    return text, len(lines) - len(text.splitlines()) if text else 0


def in_project(path: str, root: Path) -> bool:
    """Whether a file a traceback names is the project's own (not a dependency's)."""
    p = Path(workdir_relative(path, root))
    parts = p.parts
    return (
        bool(parts)
        and not p.is_absolute()
        and parts[0] != ".."
        and not any(part in ("site-packages", "node_modules", ".venv", "venv") for part in parts)
    )
