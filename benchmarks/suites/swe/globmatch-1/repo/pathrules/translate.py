"""Glob patterns as regular expressions."""

import re


def _char_class(pattern: str, i: int) -> tuple[str, int]:
    """The regex of the class starting at pattern[i] == '[', and the index after it; a '['
    without its ']' is a literal."""
    j = i + 1
    if j < len(pattern) and pattern[j] == "!":
        j += 1
    if j < len(pattern) and pattern[j] == "]":
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 1
    if j >= len(pattern):
        return re.escape("["), i + 1
    body = pattern[i + 1:j]
    negate = body.startswith("!")
    if negate:
        body = body[1:]
    body = body.replace("\\", "\\\\").replace("^", "\\^")
    return ("[^/" + body + "]" if negate else "[" + body + "]"), j + 1


def translate(pattern: str) -> str:
    """A regex matching the paths that `pattern` matches (the whole path)."""
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                out.append(".*")
                i += 2
                continue
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            regex, i = _char_class(pattern, i)
            out.append(regex)
            continue
        else:
            out.append(re.escape(c))
        i += 1
    return "(?s:" + "".join(out) + r")\Z"
