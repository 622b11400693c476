"""What each OpenSage feature is worth to a model: the reference paper's ablation in miniature.

Runs `opensage bench run` on a slice of the offline suites once per configuration of
benchmarks/ablation_agents.py (plain, +sub-agents, +ensembles, +tool synthesis, +memory,
everything), same tasks and budget, then prints a table per configuration: resolved on the
train and the validation split (mean and min-max over the repeats), tokens and seconds per
task, the feature tools the model called, and why unresolved attempts ended. Writes the table
as JSON too.

    python benchmarks/ablation.py --model local:qwen-0.5b --suites swe,terminal \
        --tasks durations-1,jsonptr-1 --repeat 3 --max-steps 12 --timeout 120 \
        [--procedure free|guided]

--procedure guided gives SWE tasks the small-model procedure of ablation_agents.py (a fixed
opening, whole-function edits checked by the tests).

Each configuration has its own output dir and OpenSage home under --output (the sub-agents
and tools it makes, its runs: `OPENSAGE_HOME=OUTPUT/CONFIG/home opensage runs show RUN_ID`).
Repeats are run in rounds (every configuration's first attempts, then the second...), so a run
stopped early (--until, Ctrl-C) leaves comparable partial results; running the same command
again resumes it (the harness runs only attempts without a result). --report prints the table
of what is there without running anything.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess
import sys
import tomllib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import mean

from opensage.core.events import EventLog

HERE = Path(__file__).resolve().parent
SUITES = HERE / "suites"
AGENTS = HERE / "ablation_agents.py"
# Configuration -> its class in ablation_agents.py, in the paper's order.
CONFIGS = {
    "plain": "Plain",
    "subagents": "SubAgents",
    "ensembles": "Ensembles",
    "synthesis": "Synthesis",
    "memory": "Memory",
    "everything": "Everything",
}
FEATURE_TOOLS = (
    "create_agent",
    "run_agent",
    "ensemble",
    "create_tool",
    "remember",
    "recall",
)


def split_of(task: Path) -> str:
    if (task / "instance.json").exists():
        return str(json.loads((task / "instance.json").read_text()).get("split", "train"))
    data = tomllib.loads((task / "task.toml").read_text())
    return str(data.get("metadata", {}).get("split", "train"))


def make_slice(folder: Path, suites: list[str], tasks: list[str]) -> dict[str, str]:
    """A suite folder of links to the chosen tasks; returns each task's split."""
    folder.mkdir(parents=True, exist_ok=True)
    splits = {}
    for task in tasks:
        found = [SUITES / s / task for s in suites if (SUITES / s / task).is_dir()]
        if not found:
            sys.exit(f"no task {task!r} in the suites {', '.join(suites)} (see {SUITES})")
        link = folder / task
        if not link.exists():
            link.symlink_to(found[0])
        splits[task] = split_of(found[0])
    return splits


def run_config(args: argparse.Namespace, out: Path, config: str, repeat: int) -> bool:
    """The configuration's attempts up to `repeat`; False when --until stopped it."""
    opensage = Path(sys.executable).with_name("opensage")
    cmd = [str(opensage), "bench", "run", str(out / "slice"), "--model", args.model]
    cmd += ["--agent", f"{AGENTS}:{CONFIGS[config]}", "--repeat", str(repeat)]
    cmd += ["--output", str(out / config)]
    env = os.environ | {
        "OPENSAGE_HOME": str(out / config / "home"),
        "ABLATION_MAX_STEPS": str(args.max_steps),
        "ABLATION_TIMEOUT": str(args.timeout),
        "ABLATION_PROCEDURE": args.procedure,
    }
    (out / config).mkdir(parents=True, exist_ok=True)
    with (out / config / "ablation.log").open("a") as log:
        child = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            child.wait(timeout=seconds_left(args.until))
            return True
        except subprocess.TimeoutExpired:  # the attempt under way is lost; the rest is kept
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                child.kill()
            return False


def seconds_left(until: str | None, now: datetime | None = None) -> float | None:
    """Seconds until the next HH:MM (UTC): tomorrow's, when today's has passed (a run started
    at 23:56 with --until 00:32 must not stop at once)."""
    if until is None:
        return None
    now = now or datetime.now(UTC)
    hour, minute = map(int, until.split(":"))
    then = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if then <= now:
        then += timedelta(days=1)
    return (then - now).total_seconds()


def summarize(out: Path, config: str, splits: dict[str, str], since: str = "") -> dict:
    """The configuration's row: resolved per split and repeat, usage, why attempts failed.
    Attempts whose run started before `since` (a run id's time, YYYYMMDD-HHMMSS) are left out."""
    path = out / config / "results.jsonl"
    rows = [json.loads(line) for line in path.open()] if path.exists() else []
    rows = [r for r in rows if r["task_id"] in splits and (r.get("run_id") or "") >= since]
    events = out / config / "home" / "events.db"
    log = EventLog.open(events) if events.exists() else None
    failures: Counter[str] = Counter()
    calls: Counter[str] = Counter()
    for r in rows:
        run = log.events(r["run_id"]) if log and r.get("run_id") else []
        called = [e.data["name"] for e in run if e.kind == "tool_call"]
        calls.update(called)
        if not r["resolved"]:
            ends = [e.data["stop_reason"] for e in run if e.kind == "run_finished"]
            end = ends[0] if ends else "no run recorded"
            if end == "finished":  # by finish(answer), or by an answer that calls no tool
                end = "finished, tests fail" if "finish" in called else "answered in text"
            failures[r["error"] or end] += 1
    row: dict = {"config": config, "attempts": len(rows)}
    for split in ("train", "validation"):
        mine = [r for r in rows if splits[r["task_id"]] == split]
        per_repeat = Counter(r["attempt"] for r in mine if r["resolved"])
        repeats = sorted({r["attempt"] for r in mine})
        counts = [per_repeat[a] for a in repeats]
        row[split] = {
            "tasks": len({r["task_id"] for r in mine}),
            "repeats": len(repeats),
            "resolved_per_repeat": counts,
            "mean": mean(counts) if counts else None,
        }
    if rows:
        row["tokens_per_task"] = mean(r["input_tokens"] + r["output_tokens"] for r in rows)
        row["seconds_per_task"] = mean(r["wall_s"] for r in rows)
        row["steps_per_task"] = mean(r["steps"] or 0 for r in rows)
    row["failures"] = dict(failures.most_common())
    row["feature_calls"] = {t: calls[t] for t in FEATURE_TOOLS if calls[t]}
    return row


def resolved(cell: dict) -> str:
    if not cell["repeats"]:
        return "-"
    counts = cell["resolved_per_repeat"]
    return f"{cell['mean']:.1f}/{cell['tasks']} [{min(counts)}-{max(counts)}] x{cell['repeats']}"


def table(rows: list[dict], command: str) -> str:
    lines = [
        f"reproduce: {command}",
        f"{'config':<11} {'train':<16} {'validation':<16} {'tok/task':>8} {'s/task':>7} "
        f"{'steps':>5}  feature calls; unresolved because",
    ]
    for r in rows:
        if not r["attempts"]:
            lines.append(f"{r['config']:<11} (no attempt yet)")
            continue
        calls = ", ".join(f"{t} {n}" for t, n in r["feature_calls"].items()) or "none"
        why = ", ".join(f"{k} {n}" for k, n in list(r["failures"].items())[:3]) or "-"
        lines.append(
            f"{r['config']:<11} {resolved(r['train']):<16} {resolved(r['validation']):<16} "
            f"{r['tokens_per_task']:>8.0f} {r['seconds_per_task']:>7.0f} "
            f"{r['steps_per_task']:>5.1f}  {calls}; {why}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="local:qwen-0.5b")
    parser.add_argument("--suites", default="swe,terminal")
    parser.add_argument("--tasks", default="durations-1,jsonptr-1")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--max-steps", type=int, default=12)
    parser.add_argument(
        "--procedure",
        choices=["free", "guided"],
        default="free",
        help="guided: SWE tasks open with run_tests, symbols, view, rewrite_function",
    )
    parser.add_argument("--timeout", type=int, default=120, help="seconds per task, at most")
    parser.add_argument("--output", type=Path, help="default: benchmarks/results/ablation-runs/…")
    parser.add_argument("--json", type=Path, help="default: OUTPUT/ablation.json")
    parser.add_argument("--until", help="HH:MM (UTC): stop running then, and report")
    parser.add_argument("--report", action="store_true", help="only report what has run")
    parser.add_argument("--since", default="", help="report only runs since YYYYMMDD-HHMMSS")
    args = parser.parse_args()
    configs = [c for c in args.configs.split(",") if c]
    unknown = set(configs) - set(CONFIGS)
    if unknown:
        sys.exit(f"unknown configurations {sorted(unknown)}; known: {', '.join(CONFIGS)}")
    model = args.model.replace(":", "-").replace("/", "-")
    budget = f"{model}-{args.max_steps}steps-{args.timeout}s"
    if args.procedure != "free":
        budget += f"-{args.procedure}"
    out = args.output or HERE / "results" / "ablation-runs" / budget
    splits = make_slice(out / "slice", args.suites.split(","), args.tasks.split(","))
    for repeat in range(1, args.repeat + 1) if not args.report else ():
        if not all(run_config(args, out, config, repeat) for config in configs):
            break
    rows = [summarize(out, config, splits, args.since) for config in configs]
    options = {"--model": args.model, "--suites": args.suites, "--tasks": args.tasks}
    options |= {"--configs": args.configs, "--repeat": args.repeat}
    options |= {"--max-steps": args.max_steps, "--timeout": args.timeout}
    options |= {"--procedure": args.procedure}
    flat = [str(x) for pair in options.items() for x in pair]
    command = shlex.join(["python", "benchmarks/ablation.py", *flat])
    load = os.getloadavg()
    print(table(rows, command))
    print(f"load average at the end (1, 5, 15 min, {os.cpu_count()} CPUs): {load}")
    report = {"command": command, "model": args.model, "tasks": splits, "budget": budget}
    report |= {"since": args.since}
    report |= {"load_at_report": load, "finished_utc": datetime.now(UTC).isoformat()}
    (args.json or out / "ablation.json").write_text(json.dumps(report | {"rows": rows}, indent=1))


if __name__ == "__main__":
    main()
