"""Reading INI text into (section, key, value, line) entries."""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from inicfg.errors import ParseError

SECTION = re.compile(r"\[\s*([^\]]+?)\s*\]\s*$")
ENTRY = re.compile(r"([^=:\s][^=:]*?)\s*[=:]\s*(.*)$")
COMMENT_PREFIXES = ("#", ";")


@dataclass
class Entry:
    section: str
    key: str
    value: str
    line: int


def strip_inline_comment(value: str) -> str:
    """`value` without a trailing ' ; comment' or ' # comment'."""
    match = re.search(r"\s[;#]", value)
    return value[:match.start()].rstrip() if match else value.rstrip()


def entries(text: str) -> Iterator[Entry]:
    """The entries of `text`, in order. Indented lines continue the previous value."""
    section: str | None = None
    current: Entry | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith(COMMENT_PREFIXES):
            continue
        if raw[0] in " \t" and current is not None:
            current.value += "\n" + strip_inline_comment(stripped)
            continue
        if current is not None:
            yield current
            current = None
        header = SECTION.match(stripped)
        if header:
            section = header.group(1)
            continue
        entry = ENTRY.match(stripped)
        if entry is None:
            raise ParseError(f"expected 'key = value' or '[section]', got {stripped!r}", number)
        if section is None:
            raise ParseError("a key before any [section]", number)
        current = Entry(section, entry.group(1).strip().lower(),
                        strip_inline_comment(entry.group(2)), number)
    if current is not None:
        yield current
