"""A decorator that caches a function's results in an LRUCache."""

import functools
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from lrukit.cache import LRUCache
from lrukit.clock import monotonic

F = TypeVar("F", bound=Callable[..., Any])
_MISSING = object()


def make_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
    """The cache key of a call: positional arguments, then keyword arguments by name."""
    return (args, tuple(sorted(kwargs.items()))) if kwargs else args


def memoize(maxsize: int = 128, ttl: float | None = None,
            clock: Callable[[], float] = monotonic) -> Callable[[F], F]:
    """Cache the decorated function's results (its arguments must be hashable). The wrapper
    has `.cache`, the LRUCache."""

    def decorate(function: F) -> F:
        cache = LRUCache(maxsize=maxsize, ttl=ttl, clock=clock)

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            key = make_key(args, kwargs)
            result = cache.get(key, _MISSING)
            if result is _MISSING:
                result = function(*args, **kwargs)
                cache[key] = result
            return result

        wrapper.cache = cache  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
