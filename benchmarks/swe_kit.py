"""What the software-engineering kit's search and code map cost on a large real tree.

On this Python's site-packages (tens of thousands of files, available offline) or --tree DIR:
- `search` (ripgrep in the bwrap sandbox, the whole call: sandbox, JSON parsing, the answer)
  p50 against `grep -rn` for the same pattern in the same run (target: 5x faster); the Python
  fallback once, for information;
- `symbols` for the whole tree, cold (a new parse cache) and warm (target: < 0.5 s), and
  `references` for one name;
- the size in tokens of the kit's tool schemas, what every request pays (target: < 2,500).
  `schema_tokens(schemas)` counts any list of schemas; until the kit is wired, the schemas are
  built from the contract's signatures with each executor's docstring where one is found and a
  draft below where not (the table says which). Tokens are o200k_base's where the `bpe-openai`
  package is installed, else estimated as characters / 4.
Prints a table and writes benchmarks/results/swe_kit.json.

    .venv/bin/python benchmarks/swe_kit.py [--runs 5] [--tree DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import json
import statistics
import subprocess
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
# (label, pattern, grep -E's pattern, fixed_strings): a regex and a literal, with and without
# many hits.
PATTERNS = [
    ("regex, few hits", r"class \w+Visitor\(", r"class [A-Za-z0-9_]+Visitor\(", False),
    ("literal, many hits", "import numpy", "import numpy", True),
]


# --- the tool schemas ---------------------------------------------------------------------

def _contract() -> dict[str, tuple[str, Callable[..., Any], str]]:
    """Each tool of the contract: the module of its executor, a function with the contract's
    signature, and a draft description (Google-style, as the executors' docstrings are) for
    when no executor docstring is found."""

    def view(path: str, view_range: list[int] | None = None) -> None: ...
    def create_file(path: str, file_text: str) -> None: ...
    def str_replace(path: str, old_str: str, new_str: str) -> None: ...
    def insert(path: str, insert_line: int, new_str: str) -> None: ...
    def undo_edit(path: str) -> None: ...
    def apply_patch(patch: str) -> None: ...
    def search(pattern: str, path: str = ".", glob: str | None = None,
               fixed_strings: bool = False, context: int = 0,
               max_results: int = 100) -> None: ...
    def symbols(path: str = ".", name: str | None = None) -> None: ...
    def references(name: str, path: str = ".") -> None: ...
    def run_tests(tests: list[str] | None = None, timeout_s: float = 900) -> None: ...
    def debug(command: str, breakpoints: list[str], expressions: list[str] | None = None,
              timeout_s: float = 120) -> None: ...
    def diff() -> None: ...
    def run_command(command: str, timeout_s: float = 120, background: bool = False) -> None: ...
    def read_output(handle: str) -> None: ...
    def kill_process(handle: str) -> None: ...

    drafts = {
        "view": ("edit", "Show a file with line numbers, or a folder as a tree two levels deep."
                 "\n\nArgs:\n    path: relative to the work directory.\n    view_range: "
                 "[start, end] lines, 1-based; -1 for the end."),
        "create_file": ("edit", "Create a file, or overwrite one, with this text.\n\nArgs:\n"
                        "    path: relative to the work directory.\n    file_text: the "
                        "whole content."),
        "str_replace": ("edit", "Replace text that occurs exactly once in a file.\n\nArgs:\n"
                        "    path: the file.\n    old_str: the exact text to replace, with "
                        "enough lines to be unique.\n    new_str: the new text."),
        "insert": ("edit", "Insert text after a line of a file.\n\nArgs:\n    path: the file."
                   "\n    insert_line: the line after which to insert; 0 for the top.\n"
                   "    new_str: the text to insert."),
        "undo_edit": ("edit", "Undo the last edit of a file (repeat for earlier ones).\n\n"
                      "Args:\n    path: the file."),
        "apply_patch": ("patch", "Apply a unified diff (as git diff writes it) to the work "
                        "directory, all or nothing.\n\nArgs:\n    patch: the diff."),
        "run_tests": ("tests", "Run the project's tests (or the named ones) and report "
                      "`N passed, M failed` and each failure.\n\nArgs:\n    tests: test ids;"
                      " all when empty.\n    timeout_s: seconds before the run is stopped."),
        "debug": ("debug", "Run a program under the debugger and report variables and the "
                  "stack at each breakpoint.\n\nArgs:\n    command: the program or test.\n"
                  "    breakpoints: as file:line.\n    expressions: evaluated at each stop.\n"
                  "    timeout_s: seconds before it is stopped."),
        "diff": ("diff", "Every change in the work directory since the run began, as one "
                 "unified diff."),
        "run_command": ("processes", "Run a shell command in the sandbox.\n\nArgs:\n"
                        "    command: the command line.\n    timeout_s: seconds before it is "
                        "killed.\n    background: return a handle at once."),
        "read_output": ("processes", "New output of a background command.\n\nArgs:\n"
                        "    handle: from run_command."),
        "kill_process": ("processes", "Stop a background command.\n\nArgs:\n    handle: from "
                         "run_command."),
        "search": ("search", ""),
        "symbols": ("code", ""),
        "references": ("code", ""),
    }
    functions = {f.__name__: f for f in (view, create_file, str_replace, insert, undo_edit,
                                         apply_patch, search, symbols, references, run_tests,
                                         debug, diff, run_command, read_output, kill_process)}
    return {name: (module, functions[name], draft) for name, (module, draft) in drafts.items()}


def _executor_doc(module: str, name: str) -> str | None:
    """The docstring of the executor `name` in opensage.kits.swe.`module`: a function of that
    name, or a method of a class there."""
    try:
        mod = importlib.import_module(f"opensage.kits.swe.{module}")
    except Exception:
        return None
    candidates = [getattr(mod, name, None)]
    candidates += [getattr(cls, name, None) for _, cls in inspect.getmembers(mod, inspect.isclass)
                   if cls.__module__ == mod.__name__]
    for fn in candidates:
        if callable(fn) and inspect.getdoc(fn):
            return inspect.getdoc(fn)
    return None


def contract_schemas() -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The kit's tool schemas as the OpenAI-style `tools` list a request carries, and for each
    tool where its description came from ("executor" or "draft")."""
    from opensage.core.tools import Tool

    schemas, sources = [], {}
    for name, (module, fn, draft) in _contract().items():
        doc = _executor_doc(module, name)
        sources[name] = "executor" if doc else "draft"
        fn.__doc__ = doc or draft
        schema = Tool(fn).schema
        schemas.append({"type": "function", "function": {
            "name": schema.name, "description": schema.description,
            "parameters": schema.parameters}})
    return schemas, sources


def schema_tokens(schemas: list[dict[str, Any]]) -> tuple[int, str]:
    """Tokens the schemas take as JSON (compact), and how they were counted."""
    text = json.dumps(schemas, separators=(",", ":"))
    try:
        from bpe_openai import get_encoding  # optional: o200k_base, bundled in its wheel

        return len(get_encoding("o200k_base").encode(text)), "o200k_base"
    except ImportError:
        return round(len(text) / 4), "estimated: characters / 4"


# --- timing -------------------------------------------------------------------------------

def p50(times: list[float]) -> float:
    return statistics.median(times)


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


def grep(tree: Path, pattern: str, fixed: bool) -> int:
    flag = "-F" if fixed else "-E"
    done = subprocess.run(["grep", "-rn", flag, "--", pattern, "."], cwd=tree,
                          capture_output=True, check=False)
    return done.stdout.count(b"\n")


def main(runs: int, tree: Path) -> None:
    from opensage.kits.swe.code import CodeIndex, references, symbols
    from opensage.kits.swe.search import search, walk_files
    from opensage.sandbox import open_sandbox

    tree = tree.resolve()
    files = sum(1 for _ in walk_files(tree, tree))
    print(f"tree: {tree} ({files} files not ignored or hidden)")
    sandbox = open_sandbox("bwrap")
    rows: list[dict[str, Any]] = []
    for label, pattern, grep_pattern, fixed in PATTERNS:
        grep(tree, grep_pattern, fixed)  # warm the page cache for both
        base, lines = timed(lambda g=grep_pattern, f=fixed: grep(tree, g, f), runs)

        def rg(p: str = pattern, f: bool = fixed) -> str:
            return asyncio.run(search(tree, sandbox, p, fixed_strings=f))

        rg()
        ours, answer = timed(rg, runs)
        head = answer.splitlines()[0]
        rows.append({"measure": f"search: {label}", "baseline": "grep -rn",
                     "baseline_p50_s": p50(base), "p50_s": p50(ours),
                     "ratio": p50(base) / p50(ours), "target": ">= 5x faster",
                     "grep_lines": lines, "answer": head})
    fallback, answer = timed(lambda: asyncio.run(search(tree, None, PATTERNS[0][1])), 1)
    rows.append({"measure": "search: Python fallback (1 run)", "baseline": "grep -rn",
                 "baseline_p50_s": rows[0]["baseline_p50_s"], "p50_s": fallback[0],
                 "ratio": rows[0]["baseline_p50_s"] / fallback[0], "target": "(information)",
                 "answer": answer.splitlines()[0]})

    index = CodeIndex()
    cold, _ = timed(lambda: symbols(tree, index), 1)
    warm, out = timed(lambda: symbols(tree, index), runs)
    rows.append({"measure": "symbols: whole tree, cold", "p50_s": cold[0],
                 "files_parsed": index.parses, "target": "(information)"})
    rows.append({"measure": "symbols: whole tree, warm", "p50_s": p50(warm),
                 "target": "< 0.5 s", "answer_chars": len(out)})
    by_name, _ = timed(lambda: symbols(tree, index, name="Parser"), runs)
    rows.append({"measure": "symbols(name=...): warm", "p50_s": p50(by_name),
                 "target": "(information)"})
    refs, out = timed(lambda: references(tree, index, "QueryCursor"), 1)
    rows.append({"measure": "references: one name, whole tree", "p50_s": refs[0],
                 "target": "(information)", "answer": out.splitlines()[0]})

    schemas, sources = contract_schemas()
    tokens, counted = schema_tokens(schemas)
    drafts = sorted(name for name, source in sources.items() if source == "draft")
    per_tool = {s["function"]["name"]: schema_tokens([s])[0] for s in schemas}
    rows.append({"measure": f"tool schemas: {len(schemas)} tools", "tokens": tokens,
                 "counted": counted, "target": "< 2500 tokens", "drafts": drafts,
                 "per_tool": per_tool})

    print(f"{'measure':<36} | {'grep -rn p50':>12} | {'ours p50':>9} | {'ratio':>6} | target")
    print("-" * 90)
    for r in rows:
        if "tokens" in r:
            print(f"{r['measure']:<36} | {'':>12} | {r['tokens']:>6} tk | {'':>6} | "
                  f"{r['target']} ({r['counted']})")
            continue
        base = f"{r['baseline_p50_s']:.3f} s" if "baseline_p50_s" in r else ""
        ratio = f"{r['ratio']:.1f}x" if "ratio" in r else ""
        print(f"{r['measure']:<36} | {base:>12} | {r['p50_s']:>7.3f} s | {ratio:>6} | "
              f"{r['target']}")
    print("\ntokens per tool: " + ", ".join(f"{n} {t}" for n, t in per_tool.items()))
    if drafts:
        print(f"schemas with a draft description (no executor docstring found): "
              f"{', '.join(drafts)}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "swe_kit.json").write_text(json.dumps(
        {"tree": str(tree), "files": files, "runs": runs, "rows": rows}, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tree", type=Path, default=Path(sysconfig.get_paths()["purelib"]))
    args = parser.parse_args()
    main(args.runs, args.tree)
