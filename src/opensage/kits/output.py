"""How much of an answer a kit's tools give the model at once.

The agent loop cuts a tool's output over 16,000 characters (`AgentConfig.max_output_chars`),
keeping its head and tail, and the model cannot get the middle back. So each tool of the `swe`
and `security` kits keeps its own answer under `LIMIT`, choosing what to leave out (later
matches, later files, later hits), and says how to read the rest: view with a view_range, a
narrower search, read_output again, triage of fewer inputs... `fit`, and `within` around a
tool, are the last guard for what a tool cannot bound itself (long lines, a long report).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from opensage.core.tools import ToolError, truncate

LIMIT = 15_000  # under the loop's cut, with room for the note that says how to read the rest

F = TypeVar("F", bound=Callable[..., Any])


def fit(text: str, how: str, limit: int = LIMIT) -> str:
    """`text` if it fits in `limit` characters; else its head and tail around a mark that says
    how much was cut and `how` to read it."""
    if len(text) <= limit:
        return text
    return truncate(text, limit, f"; {how}")


def within(how: str) -> Callable[[F], F]:
    """Keep a tool's answer, or its error, under the loop's cut; what was cut is said with
    `how` to read it."""

    def wrap(fn: F) -> F:
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def run_async(*args: Any, **kwargs: Any) -> str:
                try:
                    return fit(await fn(*args, **kwargs), how)
                except ToolError as exc:
                    raise ToolError(fit(str(exc), how)) from None

            return run_async  # type: ignore[return-value]

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> str:
            try:
                return fit(fn(*args, **kwargs), how)
            except ToolError as exc:
                raise ToolError(fit(str(exc), how)) from None

        return run  # type: ignore[return-value]

    return wrap
