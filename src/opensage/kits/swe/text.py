"""Text as the SWE kit's editing tools handle it: bytes that round-trip whatever the file's
encoding, lines split at newlines only, line numbers as `cat -n` shows them, a file's own line
endings kept, and where the lines most like some wanted ones are."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from opensage.core.tools import ToolError

BINARY_PROBE = 8000  # git's rule: a NUL byte in the first 8000 bytes makes a file binary
LINE_MAX_CHARS = 2_000


def decode(data: bytes) -> str:
    """Bytes -> text that encodes back to the same bytes, whatever the file's encoding."""
    return data.decode("utf-8", "surrogateescape")


def encode(text: str) -> bytes:
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise ToolError(
            f"the text holds a character that cannot be written in UTF-8 "
            f"({text[exc.start : exc.end]!r}); write it as an escape instead"
        ) from None


def printable(text: str) -> str:
    """Text for the model: bytes that were not UTF-8 shown as the replacement character."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def split_lines(text: str) -> list[str]:
    """The lines of a text without their "\\n" (a final newline ends the last line, it does
    not start a new one). Not str.splitlines, which also splits at form feeds and other
    characters that source files hold inside lines."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def is_binary(data: bytes) -> bool:
    return b"\0" in data[:BINARY_PROBE]


def numbered(lines: list[str], first: int) -> str:
    """Lines with their numbers (first is the number of lines[0]), as `cat -n` shows them."""
    shown = []
    for number, line in enumerate(lines, first):
        line = printable(line.removesuffix("\r"))
        if len(line) > LINE_MAX_CHARS:
            line = f"{line[:LINE_MAX_CHARS]}[... {len(line) - LINE_MAX_CHARS} more characters]"
        shown.append(f"{number:>6}\t{line}")
    return "\n".join(shown)


@dataclass
class Text:
    """A text file being edited: its lines end with "\\n" whatever the file uses, and `save`
    puts the file's own line endings back."""

    text: str
    crlf: bool

    @classmethod
    def of(cls, data: bytes) -> Text:
        text = decode(data)
        crlf = "\r\n" in text and text.count("\r\n") == text.count("\n")
        return cls(text.replace("\r\n", "\n") if crlf else text, crlf)

    def adapt(self, given: str) -> str:
        """Text from the model, in this file's convention."""
        return given.replace("\r\n", "\n") if self.crlf else given

    def bytes_of(self, text: str) -> bytes:
        return encode(text.replace("\n", "\r\n") if self.crlf else text)


def closest_lines(
    lines: list[str], wanted: list[str], cutoff: float = 0.5
) -> tuple[int, float] | None:
    """Where the run of len(wanted) lines most like `wanted` starts (0-based), and how alike
    it is (difflib's ratio); None when no run is at least `cutoff` alike."""
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    matcher.set_seq2("\n".join(wanted))  # the side difflib indexes, kept for every window
    best: tuple[int, float] | None = None
    floor = cutoff
    for at in range(max(1, len(lines) - len(wanted) + 1)):
        matcher.set_seq1("\n".join(lines[at : at + len(wanted)]))
        if matcher.real_quick_ratio() < floor or matcher.quick_ratio() < floor:
            continue
        ratio = matcher.ratio()
        if ratio >= floor and (best is None or ratio > best[1]):
            best, floor = (at, ratio), ratio
    return best
