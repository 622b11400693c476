"""Text a model or a user wrote, made safe to print on a terminal.

Such text is printed as text: never parsed as Rich markup (a task containing "[/bold]" would
crash the print), never highlighted (slow on megabytes), and never sent to the terminal with its
control characters (an escape sequence can clear the screen, rewrite a line, write the clipboard
through OSC 52 or disguise a link): each is shown as \\xNN instead. Long text is cut for the
screen with a note saying how much more there is; `--json` prints everything whole.
"""

from __future__ import annotations

import re

from rich.text import Text

PAGE = 20_000  # a whole view: an agent's instructions, a tool's code, a memory entry
CELL = 2_000  # a table cell or an error message
LINE = 160  # a one-line preview, whitespace collapsed

# C0 controls but tab and newline, DEL, C1 controls (\x9b is a one-byte CSI on some terminals),
# and the bidirectional overrides and isolates, which can make text read in another order than
# it runs (a name that looks harmless, a command that is not what it seems).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SHOWN = "reverse"  # a control character's visible form, so it cannot pass for typed text


def _code(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """`text` with every control character but newline and tab written out as \\xNN (a Windows
    line end counts as a newline)."""
    return _CONTROL.sub(_code, text.replace("\r\n", "\n"))


def untrusted(
    text: str,
    limit: int = PAGE,
    *,
    preview: bool = False,
    whole: str = "see --json",
    style: str = "",
) -> Text:
    """`text` as a rich Text (in `style`) that prints literally: control characters visible, at
    most `limit` characters, then a note of how many more there are and `whole`, where to read
    them all. A preview is one line: every run of whitespace becomes one space."""
    if preview:
        text = " ".join(text.split())
    head = text[:limit].replace("\r\n", "\n")
    shown = Text(style=style)
    start = 0
    for match in _CONTROL.finditer(head):
        shown.append(head[start : match.start()])
        shown.append(_code(match), _SHOWN)
        start = match.end()
    shown.append(head[start:])
    if len(text) > limit:
        hint = f"; {whole}" if whole else ""
        shown.append(f" [... {len(text) - limit:,} more characters{hint}]", "dim")
    return shown


def error_line(message: str, label: str = "error:") -> Text:
    """An error for the user: the label in red, then the message (which may quote a server's
    reply or a model's text) printed literally."""
    return Text.assemble((label, "red"), " ", untrusted(message, CELL, whole=""))
