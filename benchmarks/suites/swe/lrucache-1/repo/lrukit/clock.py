"""Clocks: the real one and one tests can move."""

import time


def monotonic() -> float:
    return time.monotonic()


class FakeClock:
    """A clock that stands still until told to move."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
