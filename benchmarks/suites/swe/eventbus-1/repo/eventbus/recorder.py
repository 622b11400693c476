"""A handler that records what it receives (for tests and debugging)."""

from typing import Any


class Recorder:
    def __init__(self, name: str = "recorder", log: list[tuple[str, str, Any]] | None = None):
        self.name = name
        self.log = log if log is not None else []

    def __call__(self, topic: str, payload: Any) -> None:
        self.log.append((self.name, topic, payload))

    @property
    def calls(self) -> list[tuple[str, Any]]:
        return [(topic, payload) for name, topic, payload in self.log if name == self.name]
