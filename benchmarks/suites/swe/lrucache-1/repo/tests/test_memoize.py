from lrukit import FakeClock, memoize


def test_memoize_caches_results():
    calls = []

    @memoize(maxsize=8)
    def square(x):
        calls.append(x)
        return x * x

    assert [square(2), square(2), square(3)] == [4, 4, 9]
    assert calls == [2, 3]
    assert square.cache.stats.hits == 1


def test_keyword_arguments_are_part_of_the_key():
    @memoize()
    def power(x, exponent=2):
        return x ** exponent

    assert power(2) == 4
    assert power(2, exponent=3) == 8
    assert power(x=2, exponent=3) == 8


def test_ttl_recomputes():
    clock = FakeClock()
    calls = []

    @memoize(ttl=5, clock=clock)
    def now(tag):
        calls.append(tag)
        return clock.now

    assert now("a") == 0
    clock.advance(6)
    assert now("a") == 6
    assert calls == ["a", "a"]
