"""USD prices of common hosted models, per million tokens (input, output).

A name matches its entry exactly or with a date suffix (`claude-sonnet-4-5-20250929`,
`gpt-4.1-2025-04-14`), never by family: a newer version is often priced differently, and a
wrong price is worse than none. Users extend the table with `[prices]` in opensage.toml. A model
not found here is unpriced: its tokens are counted and its cost is reported as unknown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from opensage.models.base import Usage

Price = tuple[float, float]
_DATED = re.compile(r"-(\d{8}|\d{4}-\d{2}-\d{2}|latest)$")

PRICES: dict[str, Price] = {
    # OpenAI
    "gpt-5": (1.25, 10.0),
    "gpt-5-mini": (0.25, 2.0),
    "gpt-5-nano": (0.05, 0.40),
    "gpt-4.1": (2.0, 8.0),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "gpt-4o": (2.50, 10.0),
    "gpt-4o-mini": (0.15, 0.60),
    "o3": (2.0, 8.0),
    "o4-mini": (1.10, 4.40),
    # Anthropic
    "claude-opus-4-6": (5.0, 25.0),
    "claude-opus-4-5": (5.0, 25.0),
    "claude-opus-4-1": (15.0, 75.0),
    "claude-opus-4": (15.0, 75.0),
    "claude-sonnet-4-6": (3.0, 15.0),
    "claude-sonnet-4-5": (3.0, 15.0),
    "claude-sonnet-4": (3.0, 15.0),
    "claude-haiku-4-5": (1.0, 5.0),
    "claude-3-5-haiku": (0.80, 4.0),
}


def find_price(model: str, overrides: Mapping[str, Price] | None = None) -> Price | None:
    table = {**PRICES, **(overrides or {})}
    name = model.rsplit("/", 1)[-1]  # "openai/gpt-4o" as routers spell it
    if name in table:
        return table[name]
    base = _DATED.sub("", name)
    return table.get(base) if base != name else None


def priced_usage(price: Price | None, input_tokens: int, output_tokens: int) -> Usage:
    """The usage of one request, with its cost when the price is known."""
    usage = Usage(requests=1, input_tokens=input_tokens, output_tokens=output_tokens)
    cost = cost_usd(price, input_tokens, output_tokens)
    if cost is None:
        usage.unpriced = 1
    else:
        usage.cost_usd = cost
    return usage


def cost_usd(price: Price | None, input_tokens: int, output_tokens: int) -> float | None:
    if price is None:
        return None
    return (input_tokens * price[0] + output_tokens * price[1]) / 1_000_000
