"""The cache."""

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from lrukit.clock import monotonic
from lrukit.stats import Stats

_MISSING = object()


class LRUCache:
    """At most `maxsize` entries; each lives `ttl` seconds if given. When full, adding an entry
    evicts the least recently used one."""

    def __init__(self, maxsize: int = 128, ttl: float | None = None,
                 clock: Callable[[], float] = monotonic) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self.ttl = ttl
        self.clock = clock
        self.stats = Stats()
        # key -> (value, expiry time or None), least recently used first
        self._data: OrderedDict[Hashable, tuple[Any, float | None]] = OrderedDict()

    def _expired(self, expiry: float | None) -> bool:
        return expiry is not None and self.clock() >= expiry

    def __getitem__(self, key: Hashable) -> Any:
        try:
            value, expiry = self._data[key]
        except KeyError:
            self.stats.misses += 1
            raise
        if self._expired(expiry):
            del self._data[key]
            self.stats.expirations += 1
            self.stats.misses += 1
            raise KeyError(key)
        self._data.move_to_end(key)
        self.stats.hits += 1
        return value

    def get(self, key: Hashable, default: Any = None) -> Any:
        entry = self._data.get(key, _MISSING)
        if entry is _MISSING or self._expired(entry[1]):
            self.stats.misses += 1
            return default
        self.stats.hits += 1
        return entry[0]

    def __setitem__(self, key: Hashable, value: Any) -> None:
        expiry = self.clock() + self.ttl if self.ttl is not None else None
        if key in self._data:
            self._data.move_to_end(key)
        self._data[key] = (value, expiry)
        while len(self._data) > self.maxsize:
            self._data.popitem(last=False)
            self.stats.evictions += 1

    def __delitem__(self, key: Hashable) -> None:
        del self._data[key]

    def __contains__(self, key: object) -> bool:
        entry = self._data.get(key)  # type: ignore[call-overload]
        return entry is not None and not self._expired(entry[1])

    def __len__(self) -> int:
        return len(self._data)

    def __iter__(self) -> Iterator[Hashable]:
        return iter(list(self._data))

    def clear(self) -> None:
        self._data.clear()
