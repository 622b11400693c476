"""The syntax gate of every edit: a Python file that compiled before an edit must compile after
it. An edit that breaks it is never written, and the model gets the error with the lines around
it. Other languages get a warning from a tree-sitter parse (the `grammars` module's `parse_errors`),
and the edit is kept: a parser's opinion on C++ or TypeScript is not sure enough to refuse an
edit."""

from __future__ import annotations

import warnings

from opensage.core.tools import ToolError
from opensage.kits.swe.grammars import parse_errors
from opensage.kits.swe.text import numbered, printable, split_lines

PYTHON_SUFFIXES = (".py", ".pyi")


def python_syntax_error(text: str, name: str) -> str | None:
    """Why `text` does not compile as Python, with the lines around the error; None if it
    does. Compiled, not run (compile() also finds what the parser lets through, such as a
    `return` outside a function). As bytes, so that a coding declaration is obeyed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like
            compile(text.encode("utf-8", "surrogateescape"), name, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return _describe_syntax_error(exc, text, name)
    except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes; absurd nesting
        return f"{name}: {exc or type(exc).__name__}"
    return None


def _describe_syntax_error(exc: SyntaxError, text: str, name: str) -> str:
    line = exc.lineno or 0
    message = f"{name}, line {line}: {exc.msg}"
    lines = split_lines(text)
    if not 1 <= line <= len(lines):
        return message
    first = max(1, line - 3)
    around = numbered(lines[first - 1 : line], first)
    if exc.offset and exc.offset > 0:
        around += "\n\t" + " " * (exc.offset - 1) + "^"
    after = lines[line : line + 3]
    if after:
        around += "\n" + numbered(after, line + 1)
    return f"{message}\n{around}"


def parse_warnings(rel: str, text: str) -> list[str]:
    """Syntax errors a tree-sitter parse finds in a file of another language than Python, as
    "line N: message" (none when the grammars are not installed)."""
    try:
        errors = parse_errors(rel, printable(text))
    except ImportError:  # tree-sitter-language-pack is not installed: nothing to check with
        return []
    return [f"line {line}: {message}" for line, message in errors]


def syntax_check(rel: str, before: str | None, after: str) -> tuple[str | None, list[str]]:
    """The syntax gate: the error that refuses an edit (a Python file that compiled, or a new
    one, that would not compile after it), or None; and the warnings to show with it."""
    if rel.endswith(PYTHON_SUFFIXES):
        error = python_syntax_error(after, rel)
        if error is None:
            return None, []
        if before is None or python_syntax_error(before, rel) is None:
            return error, []
        return None, [
            f"{rel} did not compile before this edit either (for this Python?); "
            f"it is written. Still failing: {error}"
        ]
    problems = parse_warnings(rel, after)
    return None, (
        [f"{rel} may not parse any more (the edit is kept; check it): " + "; ".join(problems)]
        if problems
        else []
    )


def gate(rel: str, before: str | None, after: str) -> list[str]:
    """`syntax_check`, raising the refusal as a ToolError for the model."""
    error, notes = syntax_check(rel, before, after)
    if error is not None:
        raise ToolError(
            f"Not applied: this edit would leave a syntax error in {rel}, so the "
            f"file is unchanged.\n{error}\nFix the edit and call again."
        )
    return notes
