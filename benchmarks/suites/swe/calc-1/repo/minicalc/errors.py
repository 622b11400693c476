class CalcError(ValueError):
    """A malformed expression or one that cannot be computed; `position` is the offset in
    the text where the problem is (None when it is not about one place)."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message if position is None else f"{message} (at {position})")
        self.position = position
