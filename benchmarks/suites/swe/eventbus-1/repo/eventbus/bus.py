"""The bus."""

import bisect
import itertools
from typing import Any

from eventbus.errors import HandlerErrors
from eventbus.subscription import Handler, Subscription

ANY = "*"


class EventBus:
    def __init__(self) -> None:
        self._subs: dict[str, list[Subscription]] = {}
        self._counter = itertools.count()

    def subscribe(self, topic: str, handler: Handler, *, priority: int = 0,
                  once: bool = False) -> Subscription:
        """Call `handler(topic, payload)` on each event of `topic` ('*' for all topics) until
        the subscription is cancelled, or once if `once`."""
        sub = Subscription(topic, handler, priority, once, next(self._counter),
                           _remove=self._remove)
        subs = self._subs.setdefault(topic, [])
        keys = [s.sort_key() for s in subs]
        subs.insert(bisect.bisect_right(keys, sub.sort_key()), sub)
        return sub

    def _remove(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.topic, [])
        if sub in subs:
            subs.remove(sub)
        if not subs:
            self._subs.pop(sub.topic, None)

    def subscribers(self, topic: str) -> list[Subscription]:
        """Who an event of `topic` would reach, in calling order."""
        return list(self._subs.get(topic, [])) + (
            list(self._subs.get(ANY, [])) if topic != ANY else [])

    def emit(self, topic: str, payload: Any = None) -> int:
        """Deliver an event; returns how many handlers it reached."""
        if topic == ANY:
            raise ValueError("cannot emit on '*'; it only subscribes to every topic")
        errors: list[tuple[str, BaseException]] = []
        delivered = 0
        for group in (self._subs.get(topic, []), self._subs.get(ANY, [])):
            for sub in group:
                if sub.once:
                    sub.cancel()
                delivered += 1
                try:
                    sub.handler(topic, payload)
                except Exception as exc:  # reported after the others ran
                    errors.append((sub.name, exc))
        if errors:
            raise HandlerErrors(topic, errors)
        return delivered
