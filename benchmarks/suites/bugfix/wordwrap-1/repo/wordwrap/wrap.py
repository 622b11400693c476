"""Greedy word wrapping for plain-text output."""


def wrap(text: str, width: int) -> list[str]:
    """The words of `text` in lines of at most `width` characters; a word longer than
    `width` gets a line of its own."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if not line:
            line = word
        elif len(line) + 1 + len(word) < width:
            line += " " + word
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def fill(text: str, width: int) -> str:
    """`wrap`'s lines joined into one string."""
    return "\n".join(wrap(text, width))


def indent(text: str, prefix: str) -> str:
    """Each line of `text` with `prefix` in front of it."""
    return "\n".join(prefix + line for line in text.splitlines())
