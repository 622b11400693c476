class HandlerErrors(Exception):
    """One or more handlers raised during an emit; `errors` holds (handler name, exception)."""

    def __init__(self, topic: str, errors: list[tuple[str, BaseException]]) -> None:
        self.topic = topic
        self.errors = errors
        names = ", ".join(f"{name}: {exc!r}" for name, exc in errors)
        super().__init__(f"{len(errors)} handler(s) failed on {topic!r}: {names}")
