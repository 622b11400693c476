"""Glob patterns and ignore files."""

from pathrules.ignore import IgnoreRules
from pathrules.match import match, select
from pathrules.translate import translate
from pathrules.walk import find

__all__ = ["IgnoreRules", "find", "match", "select", "translate"]
