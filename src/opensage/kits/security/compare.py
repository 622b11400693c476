"""`compare_builds`: how a proof of concept is judged. It must crash the vulnerable build and
not the fixed one, both built with the same flags; a timeout counts as not crashing."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from opensage.core.tools import ToolError
from opensage.kits.security.build import instrumented
from opensage.kits.security.poc import Outcome, execute
from opensage.kits.security.workbench import Workbench


@dataclass(frozen=True, slots=True)
class Comparison:
    vulnerable: Outcome
    fixed: Outcome
    sanitizers: tuple[frozenset[str], frozenset[str]]  # found in each binary

    @property
    def reproduces(self) -> bool:
        """The verdict: it crashes the vulnerable build and not the fixed one."""
        return self.vulnerable.crashed and not self.fixed.crashed

    @property
    def same_flags(self) -> bool:
        return self.sanitizers[0] == self.sanitizers[1]

    def verdict(self) -> str:
        if self.reproduces:
            return (
                "REPRODUCED: the input crashes the vulnerable build and not the fixed one; "
                "the fix stops it"
            )
        if self.vulnerable.crashed and self.fixed.crashed:
            old, new = self.vulnerable.crash, self.fixed.crash
            same = (
                old is not None
                and new is not None
                and old.kind == new.kind
                and (
                    old.top_frame is not None
                    and new.top_frame is not None
                    and old.top_frame.function == new.top_frame.function
                )
            )
            return "NOT REPRODUCED: the input crashes both builds" + (
                " the same way: the fix does not stop it (or it is not the fix of this bug)"
                if same
                else ", differently: it may reach another bug in the fixed build"
            )
        if self.fixed.crashed:
            return "NOT REPRODUCED: the input crashes only the fixed build"
        return (
            "NOT REPRODUCED: the input crashes neither build; it does not reach the bug, or "
            "the bug needs another sanitizer to show"
        )


async def compare(
    bench: Workbench,
    poc: str,
    vulnerable: str,
    fixed: str,
    args: list[str] | None = None,
    timeout_s: float = 10.0,
) -> Comparison:
    """Run both builds on the input (at once) and compare what they did."""
    if bench.executable(vulnerable, "vulnerable build") == bench.executable(fixed, "fixed build"):
        raise ToolError(
            "vulnerable and fixed are the same file; build the fixed version "
            'elsewhere (e.g. build(path="fixed")) and give both'
        )
    old, new = await asyncio.gather(
        execute(bench, vulnerable, poc, args, timeout_s),
        execute(bench, fixed, poc, args, timeout_s),
    )
    found = (
        frozenset(instrumented(bench, bench.relative(bench.path(vulnerable, "build")))),
        frozenset(instrumented(bench, bench.relative(bench.path(fixed, "build")))),
    )
    return Comparison(old, new, found)


async def compare_builds(bench: Workbench, poc: str, vulnerable: str, fixed: str) -> str:
    """Judge a proof of concept: whether the input crashes the vulnerable build and not the
    fixed one (both built with the same sanitizers and flags; a timeout counts as not
    crashing). Reports what each build did and the verdict.

    Args:
        poc: the input file, relative to the work directory.
        vulnerable: the binary built from the vulnerable code.
        fixed: the binary built the same way from the fixed code.
    """
    result = await compare(bench, poc, vulnerable, fixed)
    lines = [
        result.verdict(),
        "",
        f"vulnerable ({vulnerable}): {_one_line(result.vulnerable)}",
        f"fixed ({fixed}): {_one_line(result.fixed)}",
    ]
    if not result.same_flags:
        old, new = (", ".join(sorted(s)) or "none" for s in result.sanitizers)
        lines.append(
            f"warning: the builds differ in their sanitizers (vulnerable: {old}; "
            f"fixed: {new}); build both with the same sanitizers for a fair verdict"
        )
    for name, outcome in (("vulnerable", result.vulnerable), ("fixed", result.fixed)):
        if outcome.crash is not None and outcome.crashed:
            lines += ["", f"{name} build's crash: {outcome.crash.describe(frames=5)}"]
    return "\n".join(lines)


def _one_line(outcome: Outcome) -> str:
    if outcome.crashed and outcome.crash is not None:
        top = outcome.crash.top_frame
        return (
            f"CRASHED, {outcome.crash.kind}"
            + (f" at {top}" if top else "")
            + f" [signature {outcome.crash.signature}]"
        )
    if outcome.timed_out:
        return "no crash (timed out: counts as not crashing)"
    return f"no crash ({outcome.status})"
