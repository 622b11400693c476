"""Retry with exponential backoff and jitter, honouring a server's Retry-After."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from opensage.models.base import ModelError

T = TypeVar("T")
log = logging.getLogger("opensage.models")


@dataclass(slots=True, frozen=True)
class RetryPolicy:
    attempts: int = 4  # total tries, the first included
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0

    def delay(self, attempt: int, error: ModelError) -> float:
        """Seconds to wait after failed try number `attempt` (0-based)."""
        if error.retry_after is not None:
            return min(max(error.retry_after, 0.0), self.max_delay_s)
        backoff = min(self.max_delay_s, self.base_delay_s * (2**attempt))
        return backoff * (0.5 + random.random() / 2)  # jitter spreads out synchronized clients


async def with_retries(call: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    """Await `call()`; on a retryable `ModelError`, wait and try again up to `policy.attempts`."""
    for attempt in range(policy.attempts):
        try:
            return await call()
        except ModelError as error:
            if not error.retryable or attempt == policy.attempts - 1:
                raise
            delay = policy.delay(attempt, error)
            log.warning(
                "%s; retry %d of %d in %.1f s", error, attempt + 1, policy.attempts - 1, delay
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")
