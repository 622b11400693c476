"""How much of an answer the SWE kit's tools give the model at once.

The agent loop cuts a tool's output over 16,000 characters (`AgentConfig.max_output_chars`),
keeping its head and tail, and the model cannot get the middle back. So each tool keeps its own
answer under `LIMIT`, choosing what to leave out (later matches, later files, later hits), and
says how to read the rest: view with a view_range, a narrower search, read_output again... `fit`
is the last guard for what a tool cannot bound itself (long lines, a long report).
"""

from __future__ import annotations

from opensage.core.tools import truncate

LIMIT = 15_000  # under the loop's cut, with room for the note that says how to read the rest


def fit(text: str, how: str, limit: int = LIMIT) -> str:
    """`text` if it fits in `limit` characters; else its head and tail around a mark that says
    how much was cut and `how` to read it."""
    if len(text) <= limit:
        return text
    return truncate(text, limit, f"; {how}")
