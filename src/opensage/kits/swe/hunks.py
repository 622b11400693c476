"""Where a patch's hunks go in a file: where a hunk's context and removed lines occur exactly,
as near to its stated line as possible (fuzz on line numbers, never on content), after the
previous hunk; failing that, ignoring trailing whitespace. A hunk that fits nowhere is named,
with why (the closest lines and the first that differs)."""

from __future__ import annotations

from dataclasses import dataclass

from opensage.kits.swe.patch import Hunk
from opensage.kits.swe.text import closest_lines, printable


class HunkFailed(Exception):
    pass


@dataclass
class Placed:
    """A hunk placed in a file: it replaces lines[at:at + len(old)] by `new`."""

    at: int
    old_count: int
    new: list[str]
    note: str = ""


def place_hunks(lines: list[str], hunks: list[Hunk]) -> tuple[list[str], list[Placed]]:
    """`lines` (each with its line ending) with the hunks applied; HunkFailed naming the hunk
    and saying why when one does not fit."""
    placed: list[Placed] = []
    floor, shift = 0, 0  # hunks come in file order; the last one's offset carries over
    for number, hunk in enumerate(hunks, 1):
        try:
            spot = _place(lines, hunk, floor, shift)
        except HunkFailed as exc:
            label = f"hunk {number} of {len(hunks)}" + (
                f" ({hunk.header.strip()})" if hunk.header.strip() else ""
            )
            raise HunkFailed(f"{label} does not apply: {exc}") from None
        placed.append(spot)
        floor = spot.at + spot.old_count
        if hunk.old_start is not None:
            shift = spot.at - _stated_index(hunk)
    out: list[str] = []
    done = 0
    for spot in placed:
        out += lines[done : spot.at] + spot.new
        done = spot.at + spot.old_count
    out += lines[done:]
    for k in range(len(out) - 1):  # a line that lost its newline is no longer the last
        if not out[k].endswith("\n"):
            out[k] += "\n"
    return out, placed


def _stated_index(hunk: Hunk) -> int:
    assert hunk.old_start is not None
    # `-l,0` means "after line l"; otherwise the hunk starts at line l.
    return hunk.old_start if hunk.old_count == 0 else hunk.old_start - 1


def _place(lines: list[str], hunk: Hunk, floor: int, shift: int) -> Placed:
    start = floor
    for anchor in hunk.anchors:
        found = _find_anchor(lines, anchor, start)
        if found is None:
            raise HunkFailed(f"its `@@ {anchor}` line is not in the file after line {start}")
        start = found + 1
    old = hunk.old
    hint = max(start, _stated_index(hunk) + shift) if hunk.old_start is not None else start
    if not old:  # only added lines: at the stated line, after the anchors, or at the end
        at = min(hint if hunk.old_start is not None or hunk.anchors else len(lines), len(lines))
        return Placed(at, 0, _new_lines(hunk, lines, at))
    for strict in (True, False):
        found = _search(lines, old, start, hint, hunk.at_eof, strict)
        if found is None:
            continue
        notes = [] if strict else ["ignoring trailing whitespace"]
        if hunk.old_start is not None and found != _stated_index(hunk):
            notes.append(f"at line {found + 1}, not {_stated_index(hunk) + 1}")
        return Placed(found, len(old), _new_lines(hunk, lines, found), ", ".join(notes))
    raise HunkFailed(_why_not(lines, old, start))


def _find_anchor(lines: list[str], anchor: str, start: int) -> int | None:
    for strict in (True, False):
        for k in range(start, len(lines)):
            line = lines[k].rstrip("\r\n")
            if line == anchor if strict else line.strip() == anchor.strip():
                return k
    return None


def _search(
    lines: list[str], old: list[str], start: int, hint: int, at_eof: bool, strict: bool
) -> int | None:
    """Where `old` occurs at or after `start`, nearest to `hint` (the earlier of two equally
    near)."""
    last = len(lines) - len(old)
    if last < start:
        return None
    candidates = (
        [last] if at_eof else sorted(range(start, last + 1), key=lambda k: (abs(k - hint), k))
    )
    for at in candidates:
        if all(_same(lines[at + j], want, strict) for j, want in enumerate(old)):
            return at
    return None


def _same(have: str, want: str, strict: bool) -> bool:
    if strict:
        return have == want
    return have.rstrip() == want.rstrip()


def _new_lines(hunk: Hunk, lines: list[str], at: int) -> list[str]:
    """The hunk's new lines: context lines as the file has them, added lines as written (with
    the file's CRLF endings when it uses them)."""
    crlf = bool(lines) and sum(line.endswith("\r\n") for line in lines) * 2 > len(lines)
    out, k = [], at
    for tag, text in hunk.lines:
        if tag == " ":
            out.append(lines[k] if k < len(lines) else text)
            k += 1
        elif tag == "-":
            k += 1
        else:
            out.append(
                text[:-1] + "\r\n"
                if crlf and text.endswith("\n") and not text.endswith("\r\n")
                else text
            )
    return out


def _why_not(lines: list[str], old: list[str], start: int) -> str:
    count = len(old)
    wanted = [line.rstrip("\r\n") for line in old]
    plain = [line.rstrip("\r\n") for line in lines]
    if start > 0 and _search(lines, old, 0, 0, False, False) is not None:
        return (
            f"its {count} context and removed lines occur only before line {start + 1}, "
            "where the previous hunk ends: hunks must come in file order and not overlap"
        )
    found = closest_lines(plain[start:], wanted)
    if found is None:
        return (
            f"its {count} context and removed lines are not in the file, nor any alike: "
            "view the file and rebuild the hunk from its current text"
        )
    at, ratio = found
    at += start
    for j, want in enumerate(wanted):
        have = plain[at + j] if at + j < len(plain) else None
        if have is None or have != want:
            file_says = repr(printable(have)) if have is not None else "the end of the file"
            return (
                f"its context and removed lines are not in the file; the closest are at "
                f"lines {at + 1}-{at + count} ({ratio:.0%} alike), where line {at + j + 1} "
                f"is {file_says} but the hunk expects {printable(want)!r}"
            )
    return "its lines are not in the file"
