"""Matching paths against patterns."""

import functools
import re
from collections.abc import Iterable

from pathrules.translate import translate


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(translate(pattern))


def normalize(path: str) -> str:
    """'./a//b/' -> 'a/b'."""
    parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
    return "/".join(parts)


def match(path: str, pattern: str) -> bool:
    """Whether the whole of `path` matches `pattern`."""
    return compile_pattern(normalize(pattern)).match(normalize(path)) is not None


def select(paths: Iterable[str], include: Iterable[str], exclude: Iterable[str] = ()) -> list[str]:
    """The paths matching some `include` pattern and no `exclude` one, in order."""
    include, exclude = list(include), list(exclude)
    return [p for p in paths
            if any(match(p, i) for i in include) and not any(match(p, e) for e in exclude)]
