"""Reading unified diff text.

Lines keep their end-of-line characters, so that a line without a newline at the end of a file
('\\ No newline at end of file') is told apart from one with it.
"""

import re

from minipatch.errors import PatchError
from minipatch.model import FilePatch, Hunk

HUNK_HEADER = re.compile(r"@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)")


def _path(line: str) -> str:
    """The path of a '--- ' or '+++ ' line, without a tab-separated timestamp."""
    return line[4:].rstrip("\r\n").split("\t")[0]


def parse_patch(text: str) -> list[FilePatch]:
    """The file patches of a unified diff; text before a file's '---' line is ignored."""
    lines = text.splitlines(keepends=True)
    patches: list[FilePatch] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            current = FilePatch(_path(lines[i]), _path(lines[i + 1]))
            patches.append(current)
            i += 2
            while i < len(lines) and lines[i].startswith("@@"):
                hunk, i = _hunk(lines, i)
                current.hunks.append(hunk)
            if not current.hunks:
                raise PatchError(f"no hunks for {current.new_path}")
            continue
        i += 1
    return patches


def _hunk(lines: list[str], i: int) -> tuple[Hunk, int]:
    match = HUNK_HEADER.match(lines[i])
    if match is None:
        raise PatchError(f"line {i + 1}: bad hunk header {lines[i].rstrip()!r}")
    old_start, old_len, new_start, new_len, header = match.groups()
    hunk = Hunk(int(old_start), int(old_len) if old_len is not None else 1,
                int(new_start), int(new_len) if new_len is not None else 1,
                header=header.strip())
    i += 1
    old_seen = new_seen = 0
    while i < len(lines) and (old_seen < hunk.old_len or new_seen < hunk.new_len):
        line = lines[i]
        tag, body = line[:1], line[1:]
        if line in ("\n", "\r\n"):  # an empty context line whose space was stripped
            tag, body = " ", line
        if tag not in " -+":
            raise PatchError(f"line {i + 1}: unexpected {line.rstrip()!r} in a hunk")
        hunk.lines.append((tag, body))
        old_seen += tag in " -"
        new_seen += tag in " +"
        i += 1
        if i < len(lines) and lines[i].startswith("\\"):  # no newline at end of file
            hunk.lines[-1] = (tag, body.rstrip("\r\n"))
            i += 1
    if old_seen != hunk.old_len or new_seen != hunk.new_len:
        raise PatchError(f"hunk {hunk.old_start},{hunk.old_len} is truncated")
    return hunk, i
