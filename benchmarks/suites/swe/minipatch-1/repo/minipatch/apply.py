"""Applying hunks to text."""

from dataclasses import dataclass, field

from minipatch.errors import PatchError
from minipatch.model import FilePatch, Hunk

DEFAULT_MAX_OFFSET = 50


@dataclass
class ApplyResult:
    text: str
    offsets: list[int] = field(default_factory=list)  # per hunk: lines from where it said


def _fits(lines: list[str], at: int, expected: list[str]) -> bool:
    return at >= 0 and lines[at:at + len(expected)] == expected


def _locate(lines: list[str], hunk: Hunk, at: int, max_offset: int) -> int | None:
    """Where the hunk's old lines are, looking at `at` first, then 1, 2... lines away (before,
    then after), up to `max_offset`."""
    expected = hunk.old_lines
    for distance in range(max_offset + 1):
        for candidate in ((at - distance, at + distance) if distance else (at,)):
            if _fits(lines, candidate, expected):
                return candidate
    return None


def apply_file_patch(text: str, patch: FilePatch,
                     max_offset: int = DEFAULT_MAX_OFFSET) -> ApplyResult:
    """`text` with the hunks of `patch` applied, in order."""
    lines = text.splitlines(keepends=True)
    result = ApplyResult("")
    for number, hunk in enumerate(patch.hunks, start=1):
        # A hunk's old_start counts lines of the original text; 0 means before the first.
        at = max(hunk.old_start - 1, 0) if hunk.old_len else hunk.old_start
        found = _locate(lines, hunk, at, max_offset)
        if found is None:
            raise PatchError(f"{patch.target()}: hunk #{number} (at line {hunk.old_start}) "
                             "does not apply")
        lines[found:found + hunk.old_len] = hunk.new_lines
        result.offsets.append(found - at)
    result.text = "".join(lines)
    return result
