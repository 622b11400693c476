class ConfigError(Exception):
    """Anything wrong with a configuration."""


class ParseError(ConfigError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


class InterpolationError(ConfigError):
    """A ${...} reference that cannot be resolved."""
