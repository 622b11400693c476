"""Semantic versions."""

from semverlite.bump import bump
from semverlite.ranges import satisfies
from semverlite.version import InvalidVersion, Version

__all__ = ["InvalidVersion", "Version", "bump", "satisfies"]
