"""Small asyncio helpers the loop's hot path relies on."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Generator
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


class on_first_wait(Generic[T]):
    """Await `awaitable`, calling `callback` just before it first suspends, if it ever does.

    Work that completes without waiting needs neither a commit of the event log (a kill cannot
    land inside it) nor a timer for its timeout; work that waits on the network, a timer or a
    thread gets both, armed at the moment it starts to wait. The awaitable is driven exactly as
    `yield from` would drive it.
    """

    __slots__ = ("_awaitable", "_callback")

    def __init__(self, awaitable: Awaitable[T], callback: Callable[[], None]):
        self._awaitable = awaitable
        self._callback = callback

    def __await__(self) -> Generator[Any, Any, T]:
        inner = self._awaitable.__await__()
        try:
            yielded = inner.send(None)
        except StopIteration as done:
            return cast(T, done.value)
        self._callback()
        while True:
            try:
                sent = yield yielded
            except GeneratorExit:
                inner.close()
                raise
            except BaseException as exc:  # cancellation and timeouts go to the awaitable
                try:
                    yielded = inner.throw(exc)
                except StopIteration as done:
                    return cast(T, done.value)
            else:
                try:
                    yielded = inner.send(sent)
                except StopIteration as done:
                    return cast(T, done.value)


async def until(deadline: float, work: Awaitable[T]) -> T:
    """Await `work`, cut off at `deadline` (TimeoutError) unless it is infinite. The deadline is
    on asyncio's clock, time.monotonic, the one budgets keep their deadlines on."""
    if math.isinf(deadline):
        return await work
    async with asyncio.timeout_at(deadline):
        return await work
