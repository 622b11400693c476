import pytest

from lrukit import FakeClock, LRUCache


def test_set_get_and_miss():
    cache = LRUCache(maxsize=2)
    cache["a"] = 1
    assert cache["a"] == 1
    assert cache.get("b", "none") == "none"
    with pytest.raises(KeyError):
        cache["b"]
    assert (cache.stats.hits, cache.stats.misses) == (1, 2)


def test_evicts_oldest_when_full():
    cache = LRUCache(maxsize=2)
    cache["a"], cache["b"], cache["c"] = 1, 2, 3
    assert list(cache) == ["b", "c"]
    assert cache.stats.evictions == 1


def test_subscript_read_counts_as_use():
    cache = LRUCache(maxsize=2)
    cache["a"], cache["b"] = 1, 2
    assert cache["a"] == 1
    cache["c"] = 3
    assert "a" in cache and "b" not in cache


def test_ttl():
    clock = FakeClock()
    cache = LRUCache(maxsize=4, ttl=10, clock=clock)
    cache["a"] = 1
    clock.advance(9.5)
    assert cache["a"] == 1
    clock.advance(1)
    assert "a" not in cache
    with pytest.raises(KeyError):
        cache["a"]
    assert cache.stats.expirations == 1


def test_overwrite_refreshes_value_and_expiry():
    clock = FakeClock()
    cache = LRUCache(maxsize=2, ttl=10, clock=clock)
    cache["a"] = 1
    clock.advance(8)
    cache["a"] = 2
    clock.advance(8)
    assert cache["a"] == 2


def test_maxsize_must_be_positive():
    with pytest.raises(ValueError):
        LRUCache(maxsize=0)
