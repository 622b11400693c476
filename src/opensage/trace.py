"""Projections of the event log for people: the tree of a run's steps, as data or as a rich Tree.

Nothing here is stored: the tree is rebuilt from events (by parent id) and messages (by the event
that produced them) each time it is asked for.
"""

from __future__ import annotations

import json
from typing import Any

from rich.text import Text
from rich.tree import Tree

from opensage.core.events import EventLog

PREVIEW = 160


def run_tree(log: EventLog, run_id: str) -> dict[str, Any]:
    """The run as nested nodes: {id, kind, agent, ts, data, message?, children}."""
    messages = log.messages_by_event(run_id)
    nodes: dict[int, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for e in log.events(run_id):
        node = e.to_dict()
        node["children"] = []
        if e.id in messages:
            node["message"] = messages[e.id].to_dict()
        nodes[e.id] = node
        parent = nodes.get(e.parent) if e.parent is not None else None
        (parent["children"] if parent is not None else roots).append(node)
    if not roots:
        raise KeyError(run_id)
    root = roots[0]
    root["children"].extend(roots[1:])  # events of a resumed session hang off run_started too
    return root


def _short(text: str, n: int = PREVIEW) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _label(node: dict[str, Any], calls: dict[str, str]) -> Text | None:
    kind, d = node["kind"], node["data"]
    msg = node.get("message") or {}
    if kind == "run_started":
        return Text.assemble(("run ", "bold"), (node["run_id"], "bold cyan"),
                             f"  {_short(d['task'])}")
    if kind == "agent_started":
        return Text.assemble(("agent ", "bold"), (d["name"], "bold magenta"),
                             f"  model {d['model']}")
    if kind == "model_request":
        return None  # shown through its response, which is its only child
    if kind == "model_response":
        u = d["usage"]
        label = Text.assemble((f"step {d['step']}", "bold"),
                              (f"  {u['total_tokens']} tok ${u['cost_usd']:.4f}", "dim"))
        if msg.get("content"):
            label.append(f"  {_short(msg['content'])}")
        for c in msg.get("tool_calls", []):
            calls[c["id"]] = c["arguments"]
        return label
    if kind == "tool_call":
        args = calls.get(d["call_id"], "")
        return Text.assemble(("→ ", "yellow"), (d["name"], "yellow"), f"({_short(args, 100)})")
    if kind == "tool_result":
        style = "green" if d["ok"] else "red"
        head = "ok" if d["ok"] else f"error ({d['error']})"
        return Text.assemble((f"{head} ", style), (f"{d['duration_s'] * 1000:.0f} ms  ", "dim"),
                             _short(msg.get("content", "")))
    if kind == "model_error":
        return Text.assemble(("model error ", "bold red"), _short(d["message"]))
    if kind in ("agent_finished", "run_finished"):
        style = "bold green" if d["stop_reason"] == "finished" else "bold red"
        what = "agent" if kind == "agent_finished" else "run"
        answer = f"  answer: {_short(d['answer'])}" if d.get("answer") else ""
        return Text.assemble((f"{what} {d['stop_reason']}", style),
                             f"  ({d['message']}; {d['steps']} steps, "
                             f"${d['usage']['cost_usd']:.4f}){answer}")
    if kind == "budget_charge":
        return None  # the step line shows what was charged
    if kind == "agent_created":
        return Text.assemble(("created agent ", "magenta"), (d["name"], "bold magenta"),
                             f"  tools: {', '.join(d['tools']) or '-'}")
    if kind == "tool_created":
        return Text.assemble(("wrote tool ", "green"), (d["name"], "bold green"),
                             f" v{d['version']}  ({d['tests']} tests passed)")
    if kind == "tool_rejected":
        return Text.assemble(("tool rejected ", "red"), (d["name"], "bold red"),
                             f" at {d['stage']}: {_short(d['message'])}")
    if kind == "ensemble_started":
        return Text.assemble((f"ensemble of {d['n']} ", "bold cyan"), d["agent"],
                             f"  select: {d['select']}")
    if kind == "ensemble_member":
        return Text.assemble((f"member {d['index']}", "cyan"))
    if kind == "ensemble_selected":
        chosen = "none" if d["selected"] is None else f"member {d['selected']}"
        return Text.assemble((f"selected {chosen}", "bold cyan"), f"  {_short(d['reason'])}")
    return Text.assemble((kind, "bold"), f"  {_short(json.dumps(d))}")


def render_tree(root: dict[str, Any]) -> Tree:
    calls: dict[str, str] = {}
    tree = Tree(_label(root, calls) or root["kind"])

    def add(branch: Tree, node: dict[str, Any]) -> None:
        for child in node["children"]:
            label = _label(child, calls)
            add(branch if label is None else branch.add(label), child)

    add(tree, root)
    return tree
