"""What the software-engineering kit's search and code map cost on a large real tree.

On this Python's site-packages (tens of thousands of files, available offline) or --tree DIR:
- `search` (ripgrep in the bwrap sandbox, the whole call: sandbox, JSON parsing, the answer)
  p50 against `grep -rn` for the same pattern in the same run (target: 5x faster); the Python
  fallback once, for information;
- `symbols` for the whole tree, cold (a new parse cache) and warm (target: < 0.5 s), and
  `references` for one name;
- the size in tokens of the kit's tool schemas, what every request pays (target: < 2,500):
  the wired kit's own schemas (`kit_schemas`), counted by `schema_tokens`. Tokens are
  o200k_base's where the `bpe-openai` package is installed, else estimated as characters / 4.
Prints a table and writes benchmarks/results/swe_kit.json.

    .venv/bin/python benchmarks/swe_kit.py [--runs 5] [--tree DIR]
"""

from __future__ import annotations

import argparse
import asyncio
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


def kit_schemas() -> list[dict[str, Any]]:
    """The wired kit's tool schemas, as the OpenAI-style `tools` list every request carries:
    the kit is set up (in the bwrap sandbox, on an empty work dir) as a run would set it up."""
    import tempfile

    from opensage.config import Config
    from opensage.core.budget import Budget
    from opensage.core.context import RunContext, RunShared
    from opensage.core.events import EventLog
    from opensage.kits.swe import SweKit
    from opensage.models import ScriptedModel
    from opensage.sandbox import open_sandbox

    async def schemas() -> list[dict[str, Any]]:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "work").mkdir()
            ctx = RunContext(
                config=Config(home=root / "home"),
                run_id="bench",
                workdir=root / "work",
                log=EventLog(root / "events.db"),
                model=ScriptedModel([]),
                root_budget=Budget(),
                shared=RunShared(lambda: open_sandbox("bwrap")),
            )
            async with SweKit().session(ctx) as tools:
                return [
                    {
                        "type": "function",
                        "function": {
                            "name": t.schema.name,
                            "description": t.schema.description,
                            "parameters": t.schema.parameters,
                        },
                    }
                    for t in tools
                ]

    return asyncio.run(schemas())


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
    done = subprocess.run(
        ["grep", "-rn", flag, "--", pattern, "."], cwd=tree, capture_output=True, check=False
    )
    return done.stdout.count(b"\n")


def main(runs: int, tree: Path) -> None:
    from opensage.kits.swe.code import references, symbols
    from opensage.kits.swe.code_index import CodeIndex
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
        rows.append(
            {
                "measure": f"search: {label}",
                "baseline": "grep -rn",
                "baseline_p50_s": p50(base),
                "p50_s": p50(ours),
                "ratio": p50(base) / p50(ours),
                "target": ">= 5x faster",
                "grep_lines": lines,
                "answer": head,
            }
        )
    fallback, answer = timed(lambda: asyncio.run(search(tree, None, PATTERNS[0][1])), 1)
    rows.append(
        {
            "measure": "search: Python fallback (1 run)",
            "baseline": "grep -rn",
            "baseline_p50_s": rows[0]["baseline_p50_s"],
            "p50_s": fallback[0],
            "ratio": rows[0]["baseline_p50_s"] / fallback[0],
            "target": "(information)",
            "answer": answer.splitlines()[0],
        }
    )

    index = CodeIndex()
    cold, _ = timed(lambda: symbols(tree, index), 1)
    warm, out = timed(lambda: symbols(tree, index), runs)
    rows.append(
        {
            "measure": "symbols: whole tree, cold",
            "p50_s": cold[0],
            "files_parsed": index.parses,
            "target": "(information)",
        }
    )
    rows.append(
        {
            "measure": "symbols: whole tree, warm",
            "p50_s": p50(warm),
            "target": "< 0.5 s",
            "answer_chars": len(out),
        }
    )
    by_name, _ = timed(lambda: symbols(tree, index, name="Parser"), runs)
    rows.append(
        {"measure": "symbols(name=...): warm", "p50_s": p50(by_name), "target": "(information)"}
    )
    refs, out = timed(lambda: references(tree, index, "QueryCursor"), 1)
    rows.append(
        {
            "measure": "references: one name, whole tree",
            "p50_s": refs[0],
            "target": "(information)",
            "answer": out.splitlines()[0],
        }
    )

    schemas = kit_schemas()
    tokens, counted = schema_tokens(schemas)
    per_tool = {s["function"]["name"]: schema_tokens([s])[0] for s in schemas}
    rows.append(
        {
            "measure": f"tool schemas: {len(schemas)} tools",
            "tokens": tokens,
            "counted": counted,
            "target": "< 2500 tokens",
            "per_tool": per_tool,
        }
    )

    print(f"{'measure':<36} | {'grep -rn p50':>12} | {'ours p50':>9} | {'ratio':>6} | target")
    print("-" * 90)
    for r in rows:
        if "tokens" in r:
            print(
                f"{r['measure']:<36} | {'':>12} | {r['tokens']:>6} tk | {'':>6} | "
                f"{r['target']} ({r['counted']})"
            )
            continue
        base = f"{r['baseline_p50_s']:.3f} s" if "baseline_p50_s" in r else ""
        ratio = f"{r['ratio']:.1f}x" if "ratio" in r else ""
        print(
            f"{r['measure']:<36} | {base:>12} | {r['p50_s']:>7.3f} s | {ratio:>6} | {r['target']}"
        )
    print("\ntokens per tool: " + ", ".join(f"{n} {t}" for n, t in per_tool.items()))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "swe_kit.json").write_text(
        json.dumps({"tree": str(tree), "files": files, "runs": runs, "rows": rows}, indent=2)
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tree", type=Path, default=Path(sysconfig.get_paths()["purelib"]))
    args = parser.parse_args()
    main(args.runs, args.tree)
