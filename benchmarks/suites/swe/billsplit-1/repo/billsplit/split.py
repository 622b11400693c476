"""Dividing an amount into parts."""

from collections.abc import Sequence
from decimal import Decimal

from billsplit.money import Money


def split(total: Money, weights: Sequence[int | Decimal] | int) -> list[Money]:
    """`total` divided in proportion to `weights` (or into that many equal parts), in the
    currency's minor unit; the parts add up to `total`."""
    if isinstance(weights, int):
        weights = [1] * weights
    if not weights or any(w < 0 for w in weights) or sum(weights) == 0:
        raise ValueError("weights must be non-negative and not all zero")
    whole = Decimal(sum(weights))
    return [Money.rounded(total.amount * Decimal(w) / whole, total.currency) for w in weights]
