"""Resolving ${key} and ${section:key} references."""

import re
from typing import TYPE_CHECKING

from inicfg.errors import InterpolationError

if TYPE_CHECKING:
    from inicfg.config import Config

REFERENCE = re.compile(r"\$\{([^}:]+)(?::([^}]+))?\}|\$\$")


def interpolate(config: "Config", section: str, value: str) -> str:
    """`value` with its references replaced; `$$` stands for a literal `$`."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        first, second = match.group(1).strip(), match.group(2)
        target_section, key = (first, second.strip()) if second else (section, first)
        raw = config.raw(target_section, key.lower())
        if raw is None:
            where = f"{target_section}:{key}" if second else key
            raise InterpolationError(f"[{section}] refers to ${{{where}}}, which is not set")
        return interpolate(config, target_section, raw)

    return REFERENCE.sub(replace, value)
