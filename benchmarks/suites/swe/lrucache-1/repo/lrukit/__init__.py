"""A bounded LRU cache."""

from lrukit.cache import LRUCache
from lrukit.clock import FakeClock, monotonic
from lrukit.memoize import memoize
from lrukit.stats import Stats

__all__ = ["FakeClock", "LRUCache", "Stats", "memoize", "monotonic"]
