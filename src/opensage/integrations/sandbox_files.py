"""The `files` kit's tools (read_file, write_file, list_files: same names, same arguments) for a
run whose files are not on the host but in its sandbox: a Harbor task's container.

The built-in `files` kit opens files in the host work dir; in a Harbor trial that is an empty
stand-in (see `environment.py`), so these tools read and write through the sandbox's commands
instead, with POSIX tools any task image has (sed, wc, find, cat, mkdir). Paths are relative to
the environment's work dir, or absolute: the whole container is the agent's to change, as it is
for a shell command, and nothing of the host is in it.
"""

from __future__ import annotations

import shlex

from opensage.core.context import RunContext
from opensage.core.tools import Tool, ToolError
from opensage.kits.base import Kit
from opensage.kits.files import MAX_LISTED, MAX_READ_CHARS
from opensage.sandbox.base import ExecResult

TIMEOUT_S = 120.0


class SandboxFilesKit(Kit):
    name = "files"

    def tools(self, ctx: RunContext) -> list[Tool]:
        async def run(command: str, stdin: str | None = None) -> ExecResult:
            return await ctx.sandbox().exec(
                command,
                workdir=ctx.workdir,
                timeout_s=TIMEOUT_S,
                limits=ctx.config.sandbox_limits,
                stdin=stdin,
            )

        async def read_file(path: str, start_line: int = 1, max_lines: int = 400) -> str:
            """Read a text file of the work directory, with line numbers.

            Args:
                path: the file's path, relative to the work directory (or absolute).
                start_line: the first line to show (1-based).
                max_lines: how many lines to show at most.
            """
            first = max(1, start_line)
            last = first + max(1, max_lines) - 1
            p = _path(path)
            result = await run(
                f"test -f {p} || {{ echo {shlex.quote(f'{path!r} is not a file')} >&2; exit 2; }}"
                f" && wc -l < {p} && sed -n '{first},{last}p' {p}"
            )
            _check(result, path)
            count, _, text = result.stdout.partition("\n")
            lines = text.splitlines()[: last - first + 1]
            total = max(int(count.strip() or 0), first - 1 + len(lines))
            shown = "\n".join(f"{first + i:>5}  {line}" for i, line in enumerate(lines))
            end = first - 1 + len(lines)
            more = f"\n[... {total - end} more lines]" if end < total else ""
            return shown[:MAX_READ_CHARS] + more

        async def write_file(path: str, content: str) -> str:
            """Create or overwrite a file of the work directory (parent folders are made).

            Args:
                path: the file's path, relative to the work directory (or absolute).
                content: the whole new content of the file.
            """
            p = _path(path)
            _check(await run(f'mkdir -p -- "$(dirname -- {p})" && cat > {p}', content), path)
            return f"wrote {len(content)} characters to {path}"

        async def list_files(path: str = ".") -> str:
            """List the files under a folder of the work directory, recursively (hidden ones
            left out).

            Args:
                path: the folder, relative to the work directory (or absolute).
            """
            p = _path(path)
            listed = "find . -mindepth 1 -name '.*' -prune -o"
            result = await run(
                f"cd {p} && {{ {listed} -type d -print | sed 's|$|/|'; "
                f"{listed} ! -type d -print; }} | sort | head -n {MAX_LISTED + 1}"
            )
            _check(result, path)
            prefix = "" if path.strip() in ("", ".", "./") else path.rstrip("/") + "/"
            names = [prefix + n.removeprefix("./") for n in result.stdout.splitlines() if n]
            more = "\n[... more]" if len(names) > MAX_LISTED else ""
            return "\n".join(names[:MAX_LISTED]) + more or "(empty)"

        return [Tool(read_file), Tool(write_file), Tool(list_files)]


def _path(path: str) -> str:
    if not path.strip() or "\0" in path:
        raise ToolError(
            f"{path!r} is not a path: give a file or folder relative to the work "
            'directory ("." for the work directory itself), or an absolute path'
        )
    return shlex.quote(path)


def _check(result: ExecResult, path: str) -> None:
    if result.timed_out:
        raise ToolError(f"reading or writing {path!r} took longer than {TIMEOUT_S:g} s")
    if result.exit_code != 0:
        said = (result.stderr or result.stdout).strip()[-2000:]
        raise ToolError(f"{path!r}: {said or f'exit code {result.exit_code}'}")
