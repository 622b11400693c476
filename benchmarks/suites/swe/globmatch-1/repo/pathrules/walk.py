"""Finding files under a directory."""

import os
from collections.abc import Iterable

from pathrules.ignore import IgnoreRules
from pathrules.match import match


def find(root: str, include: Iterable[str] = ("**",),
         rules: IgnoreRules | None = None) -> list[str]:
    """The files under `root` (relative paths with '/', sorted) matching an `include`
    pattern and not ignored by `rules`. Ignored directories are not entered."""
    include = list(include)
    found = []
    for top, dirs, files in os.walk(root):
        rel_top = os.path.relpath(top, root).replace(os.sep, "/")
        prefix = "" if rel_top == "." else rel_top + "/"
        if rules is not None:
            dirs[:] = [d for d in dirs if not rules.ignored(prefix + d, is_dir=True)]
        for name in files:
            path = prefix + name
            if rules is not None and rules.ignored(path):
                continue
            if any(match(path, p) for p in include):
                found.append(path)
    return sorted(found)
