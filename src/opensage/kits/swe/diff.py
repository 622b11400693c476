"""`diff`: every change in the work dir since the run began, as one patch `git apply` accepts.

The baseline is a git tree of the work dir as the kit found it, taken once when the kit starts
(`Baseline.take`); `diff()` takes a tree of the work dir as it is now and diffs the two with
`git diff --binary`. A tree is what `git add -A` into a temporary index, then `git write-tree`,
make of the work dir: new untracked files are in it, what `.gitignore` (and .git/info/exclude)
ignores is not, nor are Python's caches (`__pycache__/`, `*.pyc`, `.pytest_cache/`...) that a
run leaves behind in a repository that does not ignore them itself.

Nothing of the user's tree is touched, and nothing is added to it. git runs in the sandbox (a
model-written repository can run programs through git's config, hooks and filters), with the
index in the sandbox's /tmp and new objects in an object directory there
(GIT_OBJECT_DIRECTORY); in a git repository the repository's objects are read as alternates, so
its index, HEAD, refs, objects and working tree stay as they were. The objects the baseline
needs and the repository lacks (the files that were changed or untracked when the run began;
in a folder that is not a git repository, all of them) cross back to the host as one pack,
kept in memory for the run and fed back to each `diff()`. A folder that is not a repository
gets a throwaway git directory in the sandbox's /tmp for each call: no `.git` appears in it.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import stat
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.output import LIMIT, fit
from opensage.sandbox.base import Sandbox, SandboxLimits

MAX_OUTPUT_BYTES = 256 << 20  # the baseline's pack, or the patch, base64-encoded
MAX_LISTED_FILES = 200  # in the summary of a patch too long to show whole
TIMEOUT_S = 600.0
# Left out of the trees even where the repository does not ignore them: what running Python
# and its tools writes, never part of a change (a .gitignore may still re-include them).
CACHES = (
    "__pycache__/",
    "*.py[cod]",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    "*.egg-info/",
)

# Shared by both scripts: $1 is "repo" (the work dir's own .git) or "plain". Configuration
# from the host or the image is ignored; the repository's own applies, except the settings
# that would run a program (fsmonitor) or change the patch's format (set on the command line).
SETUP = r"""
set -eu
g=$(mktemp -d)
mkdir -p "$g/objects/pack" "$g/objects/info"
printf '%s\n' "$CACHES" > "$g/exclude"
printf '[safe]\n\tdirectory = *\n[core]\n\texcludesFile = %s\n' "$g/exclude" > "$g/config"
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL="$g/config" GIT_TERMINAL_PROMPT=0
if [ "$1" = repo ]; then
    export GIT_DIR="$PWD/.git" GIT_ALTERNATE_OBJECT_DIRECTORIES="$PWD/.git/objects"
else
    git init -q --bare "$g/repo"
    export GIT_DIR="$g/repo"
fi
export GIT_WORK_TREE="$PWD" GIT_OBJECT_DIRECTORY="$g/objects" GIT_INDEX_FILE="$g/index"
git() { command git -c core.fsmonitor=false -c core.splitIndex=false \
    -c core.untrackedCache=false -c diff.suppressBlankEmpty=false "$@"; }
snapshot() {
    # The repository's index, when there is one, only saves hashing unchanged files again.
    # Copied with its time: git re-reads the files changed in the second the index was written
    # (the "racily clean" ones) only if the index keeps its own time; a fresh copy's would hide
    # an edit of the same size made that second.
    if [ "$1" = repo ] && cp -p .git/index "$g/index" 2>/dev/null && git add -A 2>/dev/null
    then :
    else rm -f "$g/index"; git add -A
    fi
    git write-tree
}
"""

TAKE = (
    SETUP
    + r"""
snapshot "$1"
cd "$g/objects"
find . -path './??/*' -type f | sed 's|^\./\(..\)/|\1|' > "$g/new"
if [ -s "$g/new" ]; then
    git pack-objects --stdout -q --window=0 < "$g/new" > "$g/pack"
    base64 "$g/pack" | tr -d '\n'
fi
"""
)

DIFF = (
    SETUP
    + r"""
if [ -n "$3" ]; then
    base64 -d | git index-pack --stdin >/dev/null
fi
tree=$(snapshot "$1")
git diff --binary --no-color --no-ext-diff --no-textconv --no-relative --find-renames \
    --src-prefix=a/ --dst-prefix=b/ "$2" "$tree" > "$g/patch"
base64 "$g/patch" | tr -d '\n'
"""
)


@dataclasses.dataclass
class Baseline:
    """The work dir's state when the run began; `diff()` is the tool."""

    sandbox: Sandbox
    root: Path
    mode: str  # "repo": the work dir is a git repository's top; "plain": it is not
    tree: str = ""  # the baseline's tree id
    pack: bytes = b""  # the objects of that tree the repository lacks, base64-encoded
    limits: SandboxLimits | None = None
    unavailable: str | None = None  # why there is no baseline, for the model

    @classmethod
    async def take(
        cls, sandbox: Sandbox, root: Path, limits: SandboxLimits | None = None
    ) -> Baseline:
        """The work dir's state now. Never raises for the work dir's sake: a baseline that
        cannot be taken makes `diff()` say why."""
        root = Path(root).resolve()
        baseline = cls(sandbox, root, "repo" if _is_repository(root) else "plain", limits=limits)
        try:
            out = await baseline._run(TAKE, "")
        except ToolError as exc:
            baseline.unavailable = str(exc)
            return baseline
        tree, _, pack = out.partition(b"\n")
        baseline.tree, baseline.pack = tree.decode().strip(), pack.strip()
        return baseline

    async def patch(self) -> bytes:
        """The changes since the baseline as a unified diff (b"" when there are none): what a
        SWE-bench prediction holds."""
        if self.unavailable is not None:
            raise ToolError(
                f"diff is unavailable in this run: the state of the work directory "
                f"could not be recorded when the run began ({self.unavailable})"
            )
        return base64.b64decode(await self._run(DIFF, self.tree, stdin=self.pack))

    async def diff(self) -> str:
        """The `diff` tool (described in `opensage.kits.swe`): the patch as text, or a
        line saying there is no change."""
        patch = await self.patch()
        return (
            patch.decode("utf-8", "replace")
            if patch
            else "No changes in the work directory since the run began."
        )

    async def _run(self, script: str, tree: str, stdin: bytes = b"") -> bytes:
        base = self.limits or SandboxLimits()
        limits = dataclasses.replace(
            base,
            output_bytes=MAX_OUTPUT_BYTES,
            tmp_mb=max(base.tmp_mb, 1024),
            cpu_seconds=None if base.cpu_seconds is None else max(base.cpu_seconds, int(TIMEOUT_S)),
        )
        result = await self.sandbox.exec(
            ["sh", "-c", script, "sh", self.mode, tree, "pack" if stdin else ""],
            workdir=self.root,
            env={"CACHES": "\n".join(CACHES)},
            timeout_s=TIMEOUT_S,
            limits=limits,
            stdin=stdin or None,
        )
        if result.timed_out:
            raise ToolError(f"git took more than {TIMEOUT_S:.0f} s on the work directory")
        if result.exit_code != 0 or result.stdout_truncated:
            why = result.stderr.strip()[-2000:] or f"exit code {result.exit_code}"
            if result.exit_code == 127:
                why = (
                    "git is not installed in the sandbox (the container image needs it: "
                    "rebuild it with scripts/build-sandbox-image.sh)"
                )
            elif result.stdout_truncated:
                why = f"the output is larger than {MAX_OUTPUT_BYTES >> 20} MB"
            raise ToolError(f"git failed in the sandbox: {why}")
        return result.stdout.encode()


def _is_repository(root: Path) -> bool:
    """Whether the work dir is the top of a git repository whose git directory is in it (a
    real folder: a `.git` file or symlink points elsewhere, which the sandbox may not see)."""
    try:
        info = os.lstat(root / ".git")
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and (root / ".git" / "objects").is_dir()
        and (root / ".git" / "HEAD").is_file()
    )


def fit_patch(patch: str, limit: int = LIMIT) -> str:
    """A patch as the model reads it: whole if it fits in `limit` characters; else every file
    with its lines added and removed, then the files' diffs that fit, whole, in order, and a
    note naming what is left out."""
    if len(patch) <= limit:
        return patch
    files = [f for f in re.split(r"(?m)^(?=diff --git )", patch) if f.strip()]
    summary = [
        f"{len(files)} file{'s' * (len(files) != 1)} changed; the whole patch "
        f"({len(patch)} characters) is longer than one answer. Each file, lines added "
        "and removed:"
    ]
    for text in files[:MAX_LISTED_FILES]:
        lines = text.splitlines()
        added = sum(1 for ln in lines if ln.startswith("+") and not ln.startswith("+++ "))
        removed = sum(1 for ln in lines if ln.startswith("-") and not ln.startswith("--- "))
        summary.append(f"  {_patch_name(lines[0])}  +{added} -{removed}")
    if len(files) > MAX_LISTED_FILES:
        summary.append(f"  ... and {len(files) - MAX_LISTED_FILES} more files")
    room = limit - 500 - sum(len(line) + 1 for line in summary)
    shown: list[str] = []
    for text in files:
        if len(text) > room:
            break
        shown.append(text)
        room -= len(text)
    left = [_patch_name(f.splitlines()[0]) for f in files[len(shown) :]]
    what = "left out"
    if not shown and room > 0:  # not even the first file's diff fits: its head
        head = files[0][:room]
        shown.append(head[: head.rfind("\n") + 1] + f"[... the rest of {left[0]}'s diff]\n")
        what = "cut or left out"
    note = (
        f"[the diffs of {len(left)} file{'s' * (len(left) != 1)} are {what} "
        f"({', '.join(left[:10])}{', ...' if len(left) > 10 else ''}): view those files to "
        "see their text]"
    )
    return fit(
        "\n".join([*summary, "", "".join(shown).rstrip("\n"), note]),
        "view the files to see their text",
    )


def _patch_name(header: str) -> str:
    """The file a `diff --git a/X b/Y` header names (its new path)."""
    rest = header.removeprefix("diff --git ")
    new = rest.rpartition(" b/")[2] if " b/" in rest else rest
    return new.strip('"')
