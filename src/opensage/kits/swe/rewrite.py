"""`rewrite_function`: one function or method replaced whole, kept only if the tests agree.

A coarse edit for models that write a whole function more reliably than they quote its text
exactly (small local models fail `str_replace` on indentation and on text they misremember).
It cannot rename the function, move it or touch another one, and it is checked by the tests:
the project's tests run before and after, and a rewrite under which a test fails that passed
before is taken back, with those tests' failures shown. A rewrite that breaks no passing test
stays (undo_edit takes it back), and the answer says what the tests say now.

The definition is found by the same parser as `symbols` (so any language it knows), the new
code is indented to where the old one stood, and a Python rewrite must define the same name.
"""

from __future__ import annotations

import ast
import asyncio
import difflib
import re
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path

from opensage.core.tools import ToolError
from opensage.kits.swe import tests
from opensage.kits.swe.code_index import CodeIndex, Symbol, extract_symbols
from opensage.kits.swe.edit import Editor
from opensage.kits.swe.grammars import language_of
from opensage.kits.swe.tests.report import TestReport
from opensage.sandbox.base import Sandbox, SandboxLimits

FUNCTION_KINDS = frozenset({"function", "method"})
TESTS_TIMEOUT_S = 300.0  # each of the two test runs
TIMEOUT_S = 2 * (TESTS_TIMEOUT_S + tests.GRACE_S)
_FENCE = re.compile(r"```[\w+-]*\n(.*?)\n?```", re.DOTALL)
_DEF_START = re.compile(r"\s*(@|def\s|async\s+def\s)")


class Rewriter:
    """`rewrite_function` over one work dir: finds with `index`, edits with `editor` (so the
    syntax gate and undo_edit apply), and runs the tests in `sandbox`."""

    def __init__(
        self,
        root: Path,
        editor: Editor,
        index: CodeIndex,
        sandbox: Sandbox,
        limits: SandboxLimits | None = None,
        editing: threading.Lock | None = None,
    ):
        self.root, self.editor, self.index = root, editor, index
        self.sandbox, self.limits = sandbox, limits
        self.editing = editing or threading.Lock()  # the kit's: one edit at a time

    async def rewrite(self, path: str | None, name: str | None, code: str) -> str:
        if name is None:
            name = defined_name(code)
        if path is None:
            rel, symbol = await asyncio.to_thread(self.find, name)
        else:
            rel = self.editor.workspace.rel(self.editor.workspace.locate(path))
            symbol = await asyncio.to_thread(self.locate, rel, name)
        lines = (self.index.read(self.root, rel) or b"").decode(errors="replace").split("\n")
        block = fitted(code, _indent(lines[symbol.line - 1]), symbol.name, rel)
        first = symbol.line
        if block.lstrip().startswith("@"):  # decorators written too: they replace the old ones
            while first > 1 and lines[first - 2].lstrip().startswith("@"):
                first -= 1
        if _same_code(block, lines[first - 1 : symbol.end_line]):
            raise ToolError(
                f"Not rewritten: this is {symbol.qualified} as it already is (blank lines and "
                "spaces aside). Change the lines that compute the wrong result, then call "
                "again."
            )
        before, unchecked = await self._tests()
        edited = await self._edit(self.editor.replace_lines, rel, first, symbol.end_line, block)
        if before is None:
            return f"{edited}\nNot checked by tests: {unchecked}"
        after, _ = await self._tests()
        if after is None:
            return f"{edited}\nThe tests did not run after the rewrite; run_tests to see why."
        broken = _newly_failing(before, after)
        if broken:
            written = (self.index.read(self.root, rel) or b"").decode(errors="replace")
            await self._edit(self.editor.undo_edit, rel)
            failures = "\n".join(
                f"- {c.id}: {c.message.strip()[:300]}" + (f" ({c.location})" if c.location else "")
                for c in broken[:5]
            )
            fixed = _newly_passing(before, after)
            raise ToolError(
                f"Taken back: with this version of {symbol.qualified}, {len(broken)} test"
                f"{'s' * (len(broken) != 1)} that passed before fail:\n{failures}\n"
                + (f"It did make {', '.join(fixed[:5])} pass: keep that change.\n" if fixed else "")
                + _changes(lines, written.split("\n"))
                + f"{rel} is as it was. Write {symbol.qualified} again so that these pass too."
            )
        now = after.summary()
        if not after.count("failed") and not after.count("error"):
            verdict = f"The tests pass now ({now}; before: {before.summary()})."
        else:
            verdict = f"Tests now: {now} (before: {before.summary()}).\n" + after.render(
                budget=4_000
            )
        return f"Rewrote {symbol.qualified} in {rel}.\n{verdict}"

    async def _edit(self, edit: Callable[..., str], *args: object) -> str:
        def locked() -> str:
            with self.editing:
                return edit(*args)

        return await asyncio.to_thread(locked)

    def find(self, name: str) -> tuple[str, Symbol]:
        """The one function or method named `name` in the work dir, and its file."""
        found = self._definitions(name)
        if len(found) == 1:
            return found[0]
        if found:
            raise ToolError(
                f"{len(found)} definitions of {name!r}: "
                + ", ".join(f"{rel}:{s.line} {s.qualified}" for rel, s in found[:10])
                + ". Give the path of the file (and 'Class.method' for a method)."
            )
        raise ToolError(f"no function or method {name!r} in the work directory; symbols lists them")

    def _definitions(self, name: str) -> list[tuple[str, Symbol]]:
        wanted = name.replace("::", ".").strip()
        return [
            (rel, s)
            for rel, entry in self.index.files(self.root, self.root)
            for s in entry.symbols
            if s.kind in FUNCTION_KINDS and wanted in (s.name, s.qualified)
        ]

    def locate(self, rel: str, name: str) -> Symbol:
        """The one function or method of `rel` named `name` (or `Class.name`)."""
        language = language_of(rel)
        parsed = self.index.parse(self.root, rel, language) if language else None
        if parsed is None:
            raise ToolError(
                f"{rel} is not a source file the parser reads (a missing, binary or huge "
                "file, or another language): edit it with str_replace"
            )
        tree, language, _ = parsed
        functions = [s for s in extract_symbols(tree, language) if s.kind in FUNCTION_KINDS]
        wanted = name.replace("::", ".").strip()
        # The exact qualified name first: 'A.f' must not also find 'B.A.f'.
        hits = [s for s in functions if s.qualified == wanted]
        hits = hits or [s for s in functions if s.named(wanted)]
        if len(hits) == 1:
            return hits[0]
        listed = ", ".join(f"{s.qualified} (line {s.line})" for s in (hits or functions)[:30])
        if hits:
            raise ToolError(
                f"{len(hits)} definitions of {name!r} in {rel}: {listed}. Give the qualified "
                "name, e.g. 'Class.method'."
            )
        elsewhere = [f"{o} (line {s.line})" for o, s in self._definitions(name) if o != rel]
        raise ToolError(
            f"no function or method {name!r} in {rel}. "
            + (f"It is defined in {', '.join(elsewhere[:5])}. " if elsewhere else "")
            + (f"{rel} defines: {listed}." if functions else f"{rel} defines no function.")
        )

    async def _tests(self) -> tuple[TestReport | None, str]:
        """The tests' report, or None and why they could not run."""
        try:
            report = await tests.test_report(
                self.sandbox, self.root, None, TESTS_TIMEOUT_S, limits=self.limits
            )
        except ToolError as exc:
            return None, str(exc)
        if report.timed_out:
            return None, f"the tests took longer than {TESTS_TIMEOUT_S:.0f} s"
        return report, ""


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def fitted(code: str, indent: str, name: str, rel: str) -> str:
    """The model's code as it is to stand in the file: out of a code fence, indented like the
    definition it replaces; for Python, checked to define `name`."""
    python = rel.endswith((".py", ".pyi"))
    body = (unwrapped(code) if python else _unfenced(code)).strip("\n")
    if not body.strip():
        raise ToolError("code is empty: give the whole new definition of the function")
    if python:
        _check_python(body, name)
    return "\n".join(indent + line if line.strip() else "" for line in body.split("\n")) + "\n"


def unwrapped(code: str) -> str:
    """The code a model meant: out of a code fence, and without lines it copied from above
    the definition (a location, a fence's opening), where the code does not parse with them
    and does from its first `def` or decorator on."""
    body = _unfenced(code)
    lines = body.split("\n")
    starts = [i for i, line in enumerate(lines) if _DEF_START.match(line)]
    if starts and starts[0] > 0 and not _parses(body):
        trimmed = textwrap.dedent("\n".join(lines[starts[0] :]))
        if _parses(trimmed):
            return trimmed
    return body


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except SyntaxError:
        return False
    return True


def defined_name(code: str) -> str:
    """The name of the one Python function `code` defines (so that a rewrite need not name
    it), or a ToolError asking for the name."""
    _, function = _python_definition(
        unwrapped(code),
        "give the whole definition of the function, from `def` to its last line (or give "
        "name, for code in another language)",
    )
    if function is None:
        raise ToolError(
            "give name, the function to rewrite: code is not one Python function definition "
            "that would name it (`def name(...):` and its body)"
        )
    return function.name


def _python_definition(
    code: str, what_to_give: str
) -> tuple[list[ast.stmt], ast.FunctionDef | ast.AsyncFunctionDef | None]:
    """`code`'s statements, and the function it defines when that is all it holds; a
    ToolError (ending with `what_to_give`) when it does not parse."""
    try:
        body = ast.parse(code).body
    except SyntaxError as exc:
        raise ToolError(
            f"code is not valid Python (line {exc.lineno}: {exc.msg}); {what_to_give}"
        ) from None
    only = body[0] if len(body) == 1 else None
    return body, only if isinstance(only, ast.FunctionDef | ast.AsyncFunctionDef) else None


def _unfenced(code: str) -> str:
    fenced = _FENCE.search(code)
    return textwrap.dedent(fenced.group(1) if fenced else code)


def _check_python(code: str, name: str) -> None:
    body, function = _python_definition(
        code, f"give the whole definition, starting with `def {name}(`"
    )
    if function is None or function.name != name:
        found = ", ".join(getattr(n, "name", type(n).__name__) for n in body)
        raise ToolError(
            f"code must be exactly one definition, of {name} (keep its name: its callers "
            f"use it), starting with `def {name}(`; it holds: {found or 'nothing'}"
        )


def _changes(old: list[str], new: list[str]) -> str:
    """The lines a taken-back rewrite removed and added, for the model to see what it lost
    (the 1.5B fixed the failing case and dropped the lines the other cases needed)."""
    diff = [
        line
        for line in difflib.unified_diff(old, new, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    if not diff:
        return ""
    shown = diff[:30] + ([f"[... {len(diff) - 30} more changed lines]"] if len(diff) > 30 else [])
    return "Your version changed these lines (- removed, + added):\n" + "\n".join(shown) + "\n"


def _newly_passing(before: TestReport, after: TestReport) -> list[str]:
    failed = {c.id for c in before.cases if c.outcome in ("failed", "error")}
    return [c.id for c in after.cases if c.id in failed and c.outcome == "passed"]


def _same_code(block: str, old: list[str]) -> bool:
    def words(lines: list[str]) -> list[str]:
        return [" ".join(line.split()) for line in lines if line.strip()]

    return words(block.split("\n")) == words(old)


def _newly_failing(before: TestReport, after: TestReport) -> list[tests.TestCase]:
    """The tests that passed before and do not pass after (one that is gone counts: a rewrite
    that stops a module importing loses its tests)."""
    passed = {c.id for c in before.cases if c.outcome == "passed"}
    still = {c.id for c in after.cases if c.outcome == "passed"}
    failing = [c for c in after.cases if c.id in passed and c.outcome in ("failed", "error")]
    missing = passed - still - {c.id for c in failing}
    failing += [
        tests.TestCase(i, "error", "did not run (does the module still import?)")
        for i in sorted(missing)
    ]
    return failing
