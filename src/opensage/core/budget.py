"""Budgets as a tree: a child budget draws on what its ancestors have left.

Every charge is added to the budget and to all of its ancestors, and every check walks up the
chain, so no agent can spend more than the least any ancestor has left. A wall-time limit is a
deadline; a child's deadline is never later than its parent's.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace


@dataclass(slots=True, frozen=True)
class Limits:
    max_steps: int | None = None  # model requests
    max_tokens: int | None = None  # input + output tokens
    max_cost_usd: float | None = None
    max_seconds: float | None = None  # wall time

    def merged(self, other: Limits) -> Limits:
        """These limits, with any that `other` sets taking precedence."""
        return replace(
            self, **{k: v for k in Limits.__slots__ if (v := getattr(other, k)) is not None}
        )


class BudgetExceeded(Exception):
    """A limit was reached; `reason` is the stop reason (max_steps, max_tokens, max_cost,
    max_time) and `budget` names the level whose limit it was."""

    def __init__(self, reason: str, budget: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.budget = budget


class Budget:
    def __init__(
        self,
        limits: Limits | None = None,
        *,
        name: str = "root",
        parent: Budget | None = None,
        elapsed_s: float = 0.0,
    ):
        self.limits = limits or Limits()
        self.name = name
        self.parent = parent
        self.steps = 0
        self.tokens = 0
        self.cost_usd = 0.0
        # `elapsed_s` carries time already spent, e.g. by a run before it was resumed.
        self.started = time.monotonic() - elapsed_s
        self.deadline = self._deadline()

    def _deadline(self) -> float:
        own = self.started + self.limits.max_seconds if self.limits.max_seconds else math.inf
        return min(own, self.parent.deadline) if self.parent else own

    def count_elapsed(self, seconds: float) -> None:
        """Count `seconds` already spent (by a run before it was resumed) against the time
        limit, as `elapsed_s` would have: for a budget known before the time spent is."""
        self.started -= seconds
        self.deadline = self._deadline()

    def child(self, limits: Limits | None = None, name: str = "child") -> Budget:
        return Budget(limits, name=name, parent=self)

    def chain(self) -> list[Budget]:
        level: Budget | None = self
        out = []
        while level is not None:
            out.append(level)
            level = level.parent
        return out

    def charge(self, *, steps: int = 0, tokens: int = 0, cost_usd: float = 0.0) -> None:
        for level in self.chain():
            level.steps += steps
            level.tokens += tokens
            level.cost_usd += cost_usd

    def check(self) -> None:
        """Raise `BudgetExceeded` if this budget or any ancestor has nothing left."""
        now = time.monotonic()
        for level in self.chain():
            lim = level.limits
            if lim.max_steps is not None and level.steps >= lim.max_steps:
                raise BudgetExceeded(
                    "max_steps",
                    level.name,
                    f"step limit of {lim.max_steps} reached (budget {level.name!r})",
                )
            if lim.max_tokens is not None and level.tokens >= lim.max_tokens:
                raise BudgetExceeded(
                    "max_tokens",
                    level.name,
                    f"token limit of {lim.max_tokens} reached: {level.tokens} "
                    f"used (budget {level.name!r})",
                )
            if lim.max_cost_usd is not None and level.cost_usd >= lim.max_cost_usd:
                raise BudgetExceeded(
                    "max_cost",
                    level.name,
                    f"cost limit of ${lim.max_cost_usd:g} reached: "
                    f"${level.cost_usd:.4f} spent (budget {level.name!r})",
                )
            if lim.max_seconds is not None and now >= level.started + lim.max_seconds:
                raise BudgetExceeded(
                    "max_time",
                    level.name,
                    f"time limit of {lim.max_seconds:g} s reached (budget {level.name!r})",
                )

    def remaining(self) -> Limits:
        """What this budget may still spend: the least left at any level of the chain."""
        steps: int | None = None
        tokens: int | None = None
        cost: float | None = None
        for level in self.chain():
            lim = level.limits
            if lim.max_steps is not None:
                left = max(0, lim.max_steps - level.steps)
                steps = left if steps is None else min(steps, left)
            if lim.max_tokens is not None:
                left = max(0, lim.max_tokens - level.tokens)
                tokens = left if tokens is None else min(tokens, left)
            if lim.max_cost_usd is not None:
                spent = max(0.0, lim.max_cost_usd - level.cost_usd)
                cost = spent if cost is None else min(cost, spent)
        seconds = None if math.isinf(self.deadline) else max(0.0, self.deadline - time.monotonic())
        return Limits(steps, tokens, cost, seconds)
