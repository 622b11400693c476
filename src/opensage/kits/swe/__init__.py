"""The software-engineering kit (`kits=["swe"]`): view, edit, search, test, debug and patch a
repository.

This module defines the tools as the model sees them (names, arguments, descriptions: a
contract) and what a run holds for them; each executor is in its own module (edit, apply_patch,
diff, search, code, tests, debug, processes). Every command runs in the run's sandbox, and every
file the tools read or write on the host is reached through the files kit's `resolve_inside` and
opened without following symlinks. A session holds the run's edit history, the work dir's state
when the kit was set up (what `diff` compares with), the parse cache of `symbols` and
`references`, and the background processes, which end with the session. An ensemble member gets
its own session on its copy of the work dir, so its `diff` starts where the member started.

Its `run_command` does all the `shell` kit's does, and runs commands in the background too: it
supersedes the shell kit's when an agent has both.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from opensage.core.context import RunContext
from opensage.core.tools import Tool
from opensage.kits.base import Kit
from opensage.kits.output import within
from opensage.kits.swe import code, debug, diff, processes, rewrite, search, tests
from opensage.kits.swe.apply_patch import Patcher
from opensage.kits.swe.code_index import CodeIndex
from opensage.kits.swe.edit import Editor
from opensage.kits.swe.rewrite import Rewriter
from opensage.kits.swe.workspace import EditHistory, Workspace
from opensage.sandbox.base import Sandbox, SandboxLimits

__all__ = ["SweKit", "SweTools"]

MARGIN_S = 60.0  # past a tool's own longest timeout, before the loop would abandon it
VIEW_MORE = "view a smaller view_range to see the rest"
NARROWER = "give a narrower path"


class SweTools:
    """The kit's tools over one work dir, for one session; each public method is a tool."""

    def __init__(
        self,
        root: Path,
        home: Path | None,
        sandbox: Sandbox,
        limits: SandboxLimits | None,
        baseline: diff.Baseline,
        background: processes.BackgroundProcesses,
    ):
        self.root, self.home, self.sandbox, self.limits = root, home, sandbox, limits
        history = EditHistory()
        workspace = Workspace(root, home)
        self.editor, self.patcher = Editor(workspace, history), Patcher(workspace, history)
        self.baseline, self.background = baseline, background
        self.index = CodeIndex()
        self.editing = threading.Lock()  # edits run in worker threads, one at a time
        self.rewriter = Rewriter(root, self.editor, self.index, sandbox, limits, self.editing)

    def tools(self) -> list[Tool]:
        long_running = {
            self.run_tests: tests.MAX_TIMEOUT_S + tests.GRACE_S,
            self.rewrite_function: rewrite.TIMEOUT_S,
            self.debug: debug.MAX_TIMEOUT_S,
            self.diff: diff.TIMEOUT_S,
            self.run_command: processes.MAX_TIMEOUT_S,
        }
        return [
            Tool(fn, timeout_s=long_running[fn] + MARGIN_S if fn in long_running else None)
            for fn in (
                self.view,
                self.create_file,
                self.str_replace,
                self.insert,
                self.undo_edit,
                self.rewrite_function,
                self.apply_patch,
                self.search,
                self.symbols,
                self.references,
                self.run_tests,
                self.debug,
                self.diff,
                self.run_command,
                self.read_output,
                self.kill_process,
            )
        ]

    # --- files --------------------------------------------------------------------------------

    @within(VIEW_MORE)
    def view(self, path: str, view_range: list[int] | None = None) -> str:
        """Show a file with line numbers, or a folder two levels deep (hidden and .gitignore'd
        entries left out).

        Args:
            path: a file or folder, relative to the work directory.
            view_range: [start, end] lines of a file, 1-based; end -1 for the last line.
        """
        return self.editor.view(path, view_range)

    @within(VIEW_MORE)
    def create_file(self, path: str, file_text: str) -> str:
        """Create a file (folders made as needed), or replace one whole.

        Args:
            path: the file, relative to the work directory.
            file_text: its whole content.
        """
        with self.editing:
            return self.editor.create_file(path, file_text)

    @within(VIEW_MORE)
    def str_replace(self, path: str, old_str: str, new_str: str) -> str:
        """Replace old_str, which must occur exactly once in the file, with new_str. An edit
        that breaks a Python file's syntax is refused.

        Args:
            path: the file, relative to the work directory.
            old_str: the exact text, indentation included; add lines around it to make it
                unique.
            new_str: the replacement ("" deletes old_str).
        """
        with self.editing:
            return self.editor.str_replace(path, old_str, new_str)

    @within(VIEW_MORE)
    def insert(self, path: str, insert_line: int, new_str: str) -> str:
        """Insert lines after a line of a file.

        Args:
            path: the file, relative to the work directory.
            insert_line: the line after which to insert; 0 for the top.
            new_str: the lines to insert.
        """
        with self.editing:
            return self.editor.insert(path, insert_line, new_str)

    @within(VIEW_MORE)
    def undo_edit(self, path: str) -> str:
        """Undo the last edit of a file (call again for the one before).

        Args:
            path: the file, relative to the work directory.
        """
        with self.editing:
            return self.editor.undo_edit(path)

    @within(VIEW_MORE)
    async def rewrite_function(
        self, code: str, name: str | None = None, path: str | None = None
    ) -> str:
        """Replace one function or method whole with new code, checked by the tests: they run
        before and after, and a rewrite that makes a passing test fail is taken back.

        Args:
            code: the function's whole new definition, from `def name(` (or the language's
                equivalent) to its last line.
            name: the function, or 'Class.method'; by default the one code defines (Python).
            path: the file that defines it, relative to the work directory; found when
                omitted and only one file defines it.
        """
        return await self.rewriter.rewrite(path, name, code)

    @within("view the files to see their text")
    def apply_patch(self, patch: str) -> str:
        """Apply a unified diff (as git diff writes it; or a *** Begin Patch patch) to the
        work directory, all files or none, and report on each file.

        Args:
            patch: the diff.
        """
        with self.editing:
            return self.patcher.apply_patch(patch)

    # --- finding code -------------------------------------------------------------------------

    @within("narrow the pattern or the path")
    async def search(
        self,
        pattern: str,
        path: str = ".",
        glob: str | None = None,
        fixed_strings: bool = False,
        context: int = 0,
        max_results: int = 100,
    ) -> str:
        """Search files for a regex (Rust syntax, like Python's; (?i) ignores case) or literal
        text; skips hidden, binary and .gitignore'd files. Answers `path:line: text`.

        Args:
            pattern: the regex, or the text with fixed_strings=true.
            path: a folder or file to search, relative to the work directory.
            glob: only files matching it, e.g. '*.py', 'src/**/*.{c,h}'; '!*.md' excludes.
            fixed_strings: the pattern is literal text.
            context: lines shown around each match (at most 20).
            max_results: the most matching lines shown (at most 1000).
        """
        return await search.search(
            self.root,
            self.sandbox,
            pattern,
            path,
            glob,
            fixed_strings,
            context,
            max_results,
            limits=self.limits,
            home=self.home,
        )

    @within(NARROWER)
    async def symbols(self, path: str = ".", name: str | None = None) -> str:
        """A map of the code: classes, functions and methods with their lines, file by file
        (Python, C, C++, JavaScript, TypeScript, Go, Rust, Java); with name, where that symbol
        is defined (its code too, when it is defined once).

        Args:
            path: a folder or file, relative to the work directory.
            name: a symbol to find, e.g. 'parse' or 'Parser.parse'.
        """
        return await asyncio.to_thread(
            code.symbols, self.root, self.index, path, name, home=self.home
        )

    @within(NARROWER)
    async def references(self, name: str, path: str = ".") -> str:
        """Where an identifier is used and defined, from the syntax tree (not in comments or
        strings).

        Args:
            name: the identifier, e.g. 'parse_config'.
            path: a folder or file to look in, relative to the work directory.
        """
        return await asyncio.to_thread(
            code.references, self.root, self.index, name, path, home=self.home
        )

    # --- running ------------------------------------------------------------------------------

    @within("rerun the failing tests alone with run_tests([id])")
    async def run_tests(self, tests: list[str] | None = None, timeout_s: float = 900) -> str:
        """Run the project's tests (pytest, unittest, go, cargo, node, jest, npm or make).
        First line `N passed, M failed`; then each failure's id, message and file:line; then
        the output's tail.

        Args:
            tests: ids from a report, e.g. 'tests/test_x.py::test_y', 'TestX/sub'; all
                when omitted.
            timeout_s: seconds the run may take (at most 3600).
        """
        return await _run_tests(self.sandbox, self.root, tests, timeout_s, limits=self.limits)

    @within("use fewer expressions, or fewer or later breakpoints")
    async def debug(
        self,
        command: str,
        breakpoints: list[str],
        expressions: list[str] | None = None,
        timeout_s: float = 120,
    ) -> str:
        """Run a program or test under a debugger (Python; or gdb for a program built with
        -g) without stopping: at each breakpoint hit, evaluate the expressions (or list the
        locals) and record the stack. At most 20 hits.

        Args:
            command: e.g. 'python3 app.py 3', 'pytest tests/test_x.py::test_y', './calc 4'.
            breakpoints: places as 'file:line', e.g. 'src/calc.py:12'.
            expressions: what to evaluate at each hit, e.g. 'total', 'p->next'.
            timeout_s: seconds before the program is killed (at most 1800).
        """
        return await debug.debug(
            self.sandbox,
            self.root,
            command,
            breakpoints,
            expressions,
            timeout_s,
            limits=self.limits,
            home=self.home,
        )

    async def diff(self) -> str:
        """Every change in the work directory since the run began, as one unified diff (new
        files included, .gitignore'd ones left out)."""
        return diff.fit_patch(await self.baseline.diff())

    @within(processes.MORE_OUTPUT)
    async def run_command(
        self, command: str, timeout_s: float = 120, background: bool = False
    ) -> str:
        """Run a shell command in the work directory (sandboxed: no network) and return its
        exit code and output. background=true starts it (a server, a watcher) and returns a
        handle for read_output and kill_process.

        Args:
            command: the command line, run by /bin/sh.
            timeout_s: seconds before a foreground command is killed (at most 3600).
            background: start it and return a handle at once.
        """
        return await processes.run_command(
            self.sandbox,
            self.root,
            command,
            timeout_s,
            background,
            processes=self.background,
            limits=self.limits,
        )

    async def read_output(self, handle: str) -> str:
        """A background command's new output since the last read, and whether it still runs.

        Args:
            handle: the handle run_command gave, e.g. 'bg1'.
        """
        return await processes.read_output(self.background, handle)

    async def kill_process(self, handle: str) -> str:
        """Stop a background command and all it started; returns its last output.

        Args:
            handle: the handle run_command gave, e.g. 'bg1'.
        """
        return await processes.kill_process(self.background, handle)


_run_tests = tests.run_tests  # the method of the same name hides the module in its body


class SweKit(Kit):
    """The software-engineering kit: file views and edits, patches, code search and maps,
    tests, a debugger, the run's diff and commands (in the background too)."""

    name = "swe"
    supersedes = frozenset({"shell"})

    @asynccontextmanager
    async def session(self, ctx: RunContext) -> AsyncIterator[list[Tool]]:
        root = ctx.workdir.resolve()
        sandbox, limits = ctx.sandbox(), ctx.config.sandbox_limits
        # Before the first step: what diff() compares with (a member's copy, for a member).
        baseline = await diff.Baseline.take(sandbox, root, limits)
        async with processes.BackgroundProcesses() as background:  # killed when it ends
            yield SweTools(root, ctx.config.home, sandbox, limits, baseline, background).tools()
