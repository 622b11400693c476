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
from opensage.screen import LINE, untrusted


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


def _short(text: str, n: int = LINE, style: str = "") -> Text:
    """A one-line preview of model- or user-written text, printed literally."""
    return untrusted(str(text), n, preview=True, whole="see runs show --json", style=style)


def _call_arguments(response: dict[str, Any]) -> dict[int, str]:
    """The arguments of each tool_call event under a model response, by event id.

    The i-th call event is the i-th call of the reply with its id (skipping calls that got no
    event), so two calls the model gave the same id keep their own arguments.
    """
    calls = (response.get("message") or {}).get("tool_calls", [])
    found: dict[int, str] = {}
    position = 0
    for child in response["children"]:
        if child["kind"] != "tool_call":
            continue
        ids = [c["id"] for c in calls[position:]]
        if child["data"]["call_id"] in ids:
            position += ids.index(child["data"]["call_id"])
            found[child["id"]] = calls[position]["arguments"]
            position += 1
    return found


def _label(node: dict[str, Any], calls: dict[int, str]) -> Text | None:
    kind, d = node["kind"], node["data"]
    msg = node.get("message") or {}
    if kind == "run_started":
        return Text.assemble(
            ("run ", "bold"), (node["run_id"], "bold cyan"), "  ", _short(d["task"])
        )
    if kind == "agent_started":
        return Text.assemble(
            ("agent ", "bold"),
            _short(d["name"], 60, "bold magenta"),
            "  model ",
            _short(d["model"], 100),
        )
    if kind == "model_request":
        return None  # shown through its response, which is its only child
    if kind == "model_response":
        u = d["usage"]
        what = f"step {d['step']}" if "step" in d else f"{d.get('purpose', 'request')} request"
        label = Text.assemble(
            (what, "bold"), (f"  {u['total_tokens']} tok ${u['cost_usd']:.4f}", "dim")
        )
        reply = msg.get("content") or d.get("reply")  # a side request's reply is in its event
        if reply:
            label.append_text(Text.assemble("  ", _short(reply)))
        calls.update(_call_arguments(node))
        return label
    if kind == "tool_call":
        return Text.assemble(
            ("→ ", "yellow"),
            _short(d["name"], 60, "yellow"),
            "(",
            _short(calls.get(node["id"], ""), 100),
            ")",
        )
    if kind == "tool_result":
        style = "green" if d["ok"] else "red"
        head = (
            Text("ok", style)
            if d["ok"]
            else Text.assemble("error (", _short(d["error"], 60), ")", style=style)
        )
        return Text.assemble(
            head, (f" {d['duration_s'] * 1000:.0f} ms  ", "dim"), _short(msg.get("content", ""))
        )
    if kind == "model_error":
        return Text.assemble(("model error ", "bold red"), _short(d["message"]))
    if kind in ("agent_finished", "run_finished"):
        return _finished(kind, d)
    if kind == "budget_charge":
        return None  # the step line shows what was charged
    if kind == "agent_created":
        return Text.assemble(
            ("created agent ", "magenta"),
            _short(d["name"], 60, "bold magenta"),
            "  tools: ",
            _short(", ".join(d["tools"]) or "-"),
        )
    if kind == "tool_created":
        return Text.assemble(
            ("wrote tool ", "green"),
            _short(d["name"], 60, "bold green"),
            f" v{d['version']}  ({d['tests']} tests passed)",
        )
    if kind == "tool_rejected":
        return Text.assemble(
            ("tool rejected ", "red"),
            _short(d["name"], 60, "bold red"),
            f" at {d['stage']}: ",
            _short(d["message"]),
        )
    if kind == "ensemble_started":
        return Text.assemble(
            (f"ensemble of {d['n']} ", "bold cyan"),
            _short(d["agent"], 60),
            "  select: ",
            _short(d["select"], 60),
        )
    if kind == "ensemble_member":
        return Text.assemble((f"member {d['index']}", "cyan"))
    if kind == "ensemble_selected":
        chosen = "none" if d["selected"] is None else f"member {d['selected']}"
        return Text.assemble((f"selected {chosen}", "bold cyan"), "  ", _short(d["reason"]))
    return Text.assemble((kind, "bold"), "  ", _short(json.dumps(d)))


def _finished(kind: str, d: dict[str, Any]) -> Text:
    style = "bold green" if d["stop_reason"] == "finished" else "bold red"
    what = "agent" if kind == "agent_finished" else "run"
    label = Text.assemble(
        (f"{what} {d['stop_reason']}", style),
        "  (",
        _short(d["message"]),
        f"; {d['steps']} steps, ${d['usage']['cost_usd']:.4f})",
    )
    if d.get("answer"):
        label.append_text(Text.assemble("  answer: ", _short(d["answer"])))
    return label


def render_tree(root: dict[str, Any]) -> Tree:
    calls: dict[int, str] = {}
    tree = Tree(_label(root, calls) or root["kind"])

    def add(branch: Tree, node: dict[str, Any]) -> None:
        for child in node["children"]:
            label = _label(child, calls)
            add(branch if label is None else branch.add(label), child)

    add(tree, root)
    return tree
