"""`apply_patch`: apply a unified diff, or a `*** Begin Patch` patch (read by the `patch`
module), all or nothing.

Each file's hunks are placed by the `hunks` module. Every hunk of every file is checked, and the
syntax gate run, before anything is written: a patch applies whole or not at all, and the report
names each hunk that does not apply and why. This is parsed and applied in Python, over the work
dir through the workspace's safe opens: no `patch` or `git apply` runs on the host. Each file's
change is recorded in the edit history, so `undo_edit(path)` takes it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.swe.hunks import HunkFailed, Placed, place_hunks
from opensage.kits.swe.patch import FilePatch, PatchError, parse_patch
from opensage.kits.swe.syntax_gate import syntax_check
from opensage.kits.swe.text import decode, encode, is_binary, numbered, split_lines
from opensage.kits.swe.workspace import Change, EditHistory, Workspace

SHOWN_MAX_LINES = 80  # the applied hunks' lines shown in the report, over all files


@dataclass
class Staged:
    """One file's change, computed before anything is written."""

    target: Path
    before: bytes | None  # on disk now (None: missing)
    before_mode: int | None  # its permission bits, to restore it as it was
    after: bytes | None  # None: deleted
    mode: int | None = None  # bits to set (a mode change, a renamed file's), None to keep
    origin: bytes | None = None  # what the edit started from, for the syntax gate


class Patcher:
    """`apply_patch` over one work dir; its changes go to the same edit history as the edit
    tools', so `undo_edit(path)` takes a patched file back."""

    def __init__(self, workspace: Workspace, history: EditHistory):
        self.workspace = workspace
        self.history = history

    def apply_patch(self, patch: str) -> str:
        """The `apply_patch` tool (described in `opensage.kits.swe`): every hunk of every
        file placed and gated before anything is written, then all written, each file's
        change recorded for undo_edit; a report per file."""
        try:
            files = parse_patch(patch)
        except PatchError as exc:
            raise ToolError(f"Not applied (the patch cannot be read): {exc}") from None
        staged: dict[Path, Staged] = {}
        reports, errors, shown = [], [], []
        for file in files:
            try:
                report, regions = self._stage(file, staged)
            except (HunkFailed, ToolError) as exc:
                errors.append(f"{file.shown}: {exc}")
                continue
            reports.append(report)
            shown += regions
        if errors:
            ok = f"\nThese parts would apply: {'; '.join(reports)}." if reports else ""
            raise ToolError(
                "Not applied: nothing was changed, because\n"
                + "\n".join(f"- {e}" for e in errors)
                + ok
                + "\nFix those parts (view the files for their current text) and "
                "send the whole patch again."
            )
        notes = self._gate(staged)
        self._write(staged)
        return self._report(reports, shown, notes)

    # -- staging: every change computed in memory first --

    def _stage(self, file: FilePatch, staged: dict[Path, Staged]) -> tuple[str, list[str]]:
        if file.binary:
            raise ToolError(
                "a binary patch; apply_patch changes text files only (rebuild the "
                "file with a command instead)"
            )
        if file.symlink:
            raise ToolError("a symlink; apply_patch changes regular files only")
        source = self._locate(file.old_path) if file.old_path else None
        target = self._locate(file.new_path) if file.new_path else None
        if source is None:  # a new file
            assert target is not None
            if self._current(target, staged) is not None:
                raise ToolError(
                    "it already exists, and the patch creates it: give a diff "
                    "against its current text (--- a/path) instead"
                )
            text = "".join(t for hunk in file.hunks for tag, t in hunk.lines if tag == "+")
            self._put(staged, target, encode(text), file.new_mode, None)
            count = len(split_lines(text))
            return f"{file.new_path}: created ({count} line{'s' * (count != 1)})", []
        data = self._current(source, staged)
        if data is None:
            raise ToolError(
                "it does not exist (the patch changes it); view its folder to find the right path"
            )
        if is_binary(data):
            raise ToolError("a binary file; apply_patch changes text files only")
        new_lines, placed = place_hunks(_lines(decode(data)), file.hunks)
        if target is None:  # deleted: its hunks must take every line away
            if file.hunks and new_lines:
                raise ToolError(
                    f"the patch deletes it, but its removed lines leave "
                    f"{len(new_lines)} of its lines: view it and give them all"
                )
            self._put(staged, source, None, None, None)
            return f"{file.old_path}: deleted", []
        mode: int | None = file.new_mode
        if target != source:
            if self._current(target, staged) is not None:
                raise ToolError(
                    f"{file.new_path} already exists: the patch "
                    f"{'copies' if file.copy else 'renames'} {file.old_path} to it"
                )
            mode = mode if mode is not None else self.workspace.mode(source)
            if not file.copy:
                self._put(staged, source, None, None, None)
        self._put(staged, target, encode("".join(new_lines)), mode, data)
        verb = (
            "changed"
            if target == source
            else f"{'copied' if file.copy else 'renamed'} to {file.new_path}"
        )
        notes = [f"hunk {k} {spot.note}" for k, spot in enumerate(placed, 1) if spot.note]
        report = (
            f"{file.old_path}: {verb}"
            + (f", {len(placed)} hunk{'s' * (len(placed) != 1)}" if placed else "")
            + (f" ({'; '.join(notes)})" if notes else "")
        )
        return report, self._regions(self.workspace.rel(target), new_lines, placed)

    def _locate(self, path: str) -> Path:
        target = self.workspace.locate(path)
        if target == self.workspace.root:
            raise ToolError(f"{path!r} is the work directory itself, not a file")
        return target

    def _current(self, target: Path, staged: dict[Path, Staged]) -> bytes | None:
        if target in staged:
            return staged[target].after
        return self.workspace.read(target)

    def _put(
        self,
        staged: dict[Path, Staged],
        target: Path,
        after: bytes | None,
        mode: int | None,
        origin: bytes | None,
    ) -> None:
        entry = staged.get(target)
        if entry is None:
            before = self.workspace.read(target)
            mode_now = self.workspace.mode(target) if before is not None else None
            staged[target] = Staged(target, before, mode_now, after, mode, origin)
        else:  # a second change of the same file in one patch
            entry.after, entry.mode = after, mode if mode is not None else entry.mode
            entry.origin = entry.origin if entry.origin is not None else origin

    def _regions(self, rel: str, lines: list[str], placed: list[Placed]) -> list[str]:
        regions, delta = [], 0
        texts = [line.rstrip("\r\n") for line in lines]
        for spot in placed:
            first = spot.at + delta
            delta += len(spot.new) - spot.old_count
            if spot.new:
                last = first + len(spot.new)
                regions.append(
                    f"{rel}, lines {first + 1}-{last}:\n" + numbered(texts[first:last], first + 1)
                )
        return regions

    def _gate(self, staged: dict[Path, Staged]) -> list[str]:
        notes: list[str] = []
        errors: list[str] = []
        for entry in staged.values():
            if entry.after is None:
                continue
            origin = entry.origin if entry.origin is not None else entry.before
            error, warnings = syntax_check(
                self.workspace.rel(entry.target),
                decode(origin) if origin is not None else None,
                decode(entry.after),
            )
            notes += warnings
            if error is not None:
                errors.append(error)
        if errors:
            raise ToolError(
                "Not applied: nothing was changed, because the patch would leave a "
                "syntax error:\n" + "\n".join(errors) + "\nFix the patch and send it again."
            )
        return notes

    # -- writing --

    def _write(self, staged: dict[Path, Staged]) -> None:
        done: list[Staged] = []
        try:
            for entry in staged.values():
                if entry.after == entry.before and entry.mode in (None, entry.before_mode):
                    continue
                if entry.after is None:
                    self.workspace.remove(entry.target)
                else:
                    self.workspace.write(entry.target, entry.after, entry.mode)
                done.append(entry)
        except (OSError, ToolError) as exc:
            for entry in reversed(done):  # put back what was written: all or nothing
                if entry.before is None:
                    self.workspace.remove(entry.target)
                else:
                    self.workspace.write(entry.target, entry.before, entry.before_mode)
            raise ToolError(
                f"Not applied: writing failed ({exc}); the files written before were restored"
            ) from None
        for entry in done:
            self.history.record(entry.target, Change(entry.before, entry.after, entry.before_mode))

    def _report(self, reports: list[str], shown: list[str], notes: list[str]) -> str:
        text = f"Applied the patch ({len(reports)} file{'s' * (len(reports) != 1)}):\n" + "\n".join(
            f"- {r}" for r in reports
        )
        body: list[str] = []
        size = 0
        for region in shown:
            size += region.count("\n") + 1
            if size > SHOWN_MAX_LINES:
                body.append("[... more changed lines: view the files to check them]")
                break
            body.append(region)
        if body:
            text += "\nThe changed lines now read:\n" + "\n".join(body)
        text += "\nundo_edit(path) takes back the patch's change to one file."
        return text + "".join(f"\nWarning: {note}" for note in notes)


def _lines(text: str) -> list[str]:
    """The lines of a text, each with its "\\n" (the last may have none)."""
    lines = text.split("\n")
    tail = lines.pop()
    out = [line + "\n" for line in lines]
    return [*out, tail] if tail else out
