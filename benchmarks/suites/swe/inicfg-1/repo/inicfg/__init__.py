"""INI configuration files."""

from inicfg.config import Config, load
from inicfg.errors import ConfigError, InterpolationError, ParseError

__all__ = ["Config", "ConfigError", "InterpolationError", "ParseError", "load"]
