"""One handler subscribed to one topic."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[[str, Any], None]


@dataclass(eq=False)
class Subscription:
    topic: str
    handler: Handler
    priority: int = 0
    once: bool = False
    order: int = 0  # subscription order, to break ties between equal priorities
    active: bool = True
    _remove: Callable[["Subscription"], None] | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return getattr(self.handler, "__qualname__", repr(self.handler))

    def sort_key(self) -> tuple[int, int]:
        return (-self.priority, self.order)

    def cancel(self) -> None:
        """Stop receiving events (harmless if already cancelled)."""
        if self.active:
            self.active = False
            if self._remove is not None:
                self._remove(self)
