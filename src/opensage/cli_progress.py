"""What `opensage run` shows while a run goes: on a terminal, a live tree of its agents (sub-agents,
background agents, ensembles and their members) with each one's current step; elsewhere (a
pipe, a log file), one plain line per thing that happened to the team.

Fed by the event log's observers, which see each event with its id and parent, so the tree is
the run's real one (`opensage.ui.tree.RunTree`, the projection the viewer uses too). Names,
models and reasons are untrusted text: printed through `screen.untrusted`, never as markup.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.text import Text
from rich.tree import Tree

from opensage.core.events import Event
from opensage.screen import untrusted
from opensage.ui.tree import AgentNode, EnsembleNode, RunTree

log = logging.getLogger("opensage")
SHOWN_AGENTS = 14  # past this many, finished agents give way to running ones


def _t(text: Any, n: int = 60, style: str = "") -> Text:
    return untrusted(str(text), n, preview=True, whole="", style=style)


class _Follower:
    """Follows one run's events into a `RunTree`: the run's own (its id taken from its first
    event, or a resumed run's preloaded ones), from any thread. A display must never break the
    run it shows: if it fails, it stops and says so in the log."""

    what = "the display"

    def __init__(self, run_id: str | None = None):
        self.tree = RunTree(run_id or "")
        self.run_id = run_id
        self.broken = False
        self._lock = threading.Lock()

    def preload(self, events: list[Event]) -> None:
        """What a resumed run recorded before: its agents, steps and spending so far."""
        with self._lock:
            for event in events:
                self.tree.add(event)
        if events:
            self.run_id = events[0].run_id

    def observe(self, event: Event) -> None:
        if self.run_id is None and event.kind in ("run_started", "run_resumed"):
            self.run_id = event.run_id
        if event.run_id != self.run_id or self.broken:
            return
        with self._lock:
            try:
                self.tree.add(event)
                self.took(event)
            except Exception:
                self.broken = True
                log.warning("%s stopped at event %s", self.what, event.id, exc_info=True)

    def took(self, event: Event) -> None:
        """What the display does with an event once the tree has it."""


class Progress(_Follower):
    """The run's agents as a tree, redrawn by a rich Live display (`live`) a few times a second;
    `observe` takes each event as it is recorded (from any thread)."""

    what = "the live view"

    def __init__(self, console: Console | None = None, run_id: str | None = None):
        super().__init__(run_id)
        self.live = Live(
            self, console=console or Console(stderr=True), refresh_per_second=8, transient=True
        )

    def __rich__(self) -> Group | Text:
        with self._lock:
            try:
                return self.render()
            except Exception:  # drawn in Live's own thread: never let it die mid-run
                log.warning("the live view could not be drawn", exc_info=True)
                return Text("● running", "cyan")

    # --- drawing ------------------------------------------------------------------------------

    def render(self) -> Group | Text:
        tree = self.tree
        if not tree.agents:
            return Text.assemble(("● ", "cyan"), ("starting", "bold"))
        u = tree.usage
        running = sum(a.running for a in tree.agents.values())
        header = Text.assemble(
            ("● ", "cyan"),
            ("run ", "bold"),
            (tree.run_id, "cyan"),
            f"  {len(tree.agents)} agent{'s' * (len(tree.agents) != 1)} ({running} running)",
            (f"  {int(u['total_tokens']):,} tokens  ${u['cost_usd']:.4f}", "dim"),
        )
        shown = self._shown()
        top = Tree(header, guide_style="dim")
        hidden = len(tree.agents) - len(shown)
        for root in tree.roots:
            self._add(top, tree.agents[root], shown)
        parts: list[Any] = [top]
        if hidden:
            parts.append(Text(f"  … {hidden} finished agents not shown", "dim"))
        return Group(*parts)

    def _shown(self) -> set[int]:
        """Every agent while they are few; else the running ones (with their ancestors), then
        the most recently finished."""
        agents = self.tree.agents
        if len(agents) <= SHOWN_AGENTS:
            return set(agents)
        shown: set[int] = set()
        for node in agents.values():
            if node.running:
                current: AgentNode | None = node
                while current is not None and current.id not in shown:
                    shown.add(current.id)
                    current = agents.get(current.parent) if current.parent is not None else None
        finished = sorted(
            (n for n in agents.values() if not n.running), key=lambda n: n.ended or 0, reverse=True
        )
        for node in finished:
            if len(shown) >= SHOWN_AGENTS:
                break
            current = node
            while current is not None and current.id not in shown:
                shown.add(current.id)
                current = agents.get(current.parent) if current.parent is not None else None
        return shown

    def _add(self, branch: Tree, node: AgentNode, shown: set[int]) -> None:
        if node.id not in shown:
            return
        here = branch.add(self._label(node))
        ensembles: dict[int, Tree] = {}
        for child_id in node.children:
            child = self.tree.agents[child_id]
            if child.id not in shown:
                continue
            if child.ensemble is not None:
                group = ensembles.get(child.ensemble)
                if group is None:
                    group = here.add(self._ensemble(self.tree.ensembles[child.ensemble]))
                    ensembles[child.ensemble] = group
                self._add(group, child, shown)
            else:
                self._add(here, child, shown)
        for ensemble in self.tree.ensembles.values():  # asked for, no member started yet
            if ensemble.by == node.id and ensemble.id not in ensembles and not ensemble.done:
                here.add(self._ensemble(ensemble))

    def _label(self, node: AgentNode) -> Text:
        label = Text.assemble(_t(node.name, 60, "bold magenta"), "  ", _t(node.model, 40, "dim"))
        if node.background:
            label.append("  background", "cyan")
        if node.retired:
            label.append("  retired", "dim")
        if node.running:
            label.append_text(
                Text.assemble(
                    "  ", (f"step {node.step}", "bold"), "  ", _t(node.doing, 60, "yellow")
                )
            )
        else:
            reason = str((node.outcome or {}).get("stop_reason", "finished"))
            label.append_text(
                Text.assemble("  ", _t(reason, 30, "green" if reason == "finished" else "red"))
            )
        label.append(
            f"  {node.steps} steps  {int(node.usage['total_tokens']):,} tok  "
            f"${node.usage['cost_usd']:.4f}",
            "dim",
        )
        return label

    def _ensemble(self, ensemble: EnsembleNode) -> Text:
        label = Text.assemble(
            (f"ensemble of {ensemble.n} ", "bold cyan"),
            _t(ensemble.agent, 60),
            "  select ",
            _t(ensemble.select, 20),
        )
        if ensemble.done:
            chosen = "none" if ensemble.selected is None else f"member {ensemble.selected}"
            label.append_text(
                Text.assemble(
                    ("  selected ", "bold"),
                    (chosen, "bold cyan"),
                    "  ",
                    _t(ensemble.reason or "", 80, "dim"),
                )
            )
        return label


class PlainProgress(_Follower):
    """One line per event that changes the team's picture (an agent starting or ending, a tool
    call, an ensemble's choice, a tool written, a model error), for logs and pipes."""

    what = "progress lines"

    def __init__(self, console: Console, run_id: str | None = None):
        super().__init__(run_id)
        self.console = console

    def took(self, event: Event) -> None:
        line = self.line(event)
        if line is not None:
            self.console.print(line, soft_wrap=True, highlight=False)

    def line(self, e: Event) -> Text | None:
        d, tree = e.data, self.tree
        who = _t(e.agent or "run", 60)
        if e.kind == "run_started":
            return Text.assemble("run ", e.run_id, ": ", _t(d.get("task", ""), 120))
        if e.kind == "agent_started":
            node = tree.agents.get(e.id)
            parent = tree.agents.get(node.parent) if node and node.parent is not None else None
            by = Text.assemble(" by ", _t(parent.name)) if parent is not None else Text()
            return Text.assemble("agent ", who, " started (", _t(d.get("model", ""), 120), ")", by)
        if e.kind == "tool_call":
            owner = tree.owner(e.id)
            node = tree.agents.get(owner) if owner is not None else None
            step = f" step {node.step}" if node is not None else ""
            return Text.assemble(who, step, " → ", _t(d.get("name", ""), 60))
        if e.kind == "agent_finished":
            u = d.get("usage") or {}
            return Text.assemble(
                "agent ",
                who,
                " ",
                _t(d.get("stop_reason", ""), 30),
                f" ({d.get('steps', 0)} steps, {u.get('total_tokens', 0):,} "
                f"tokens, ${u.get('cost_usd', 0):.4f})",
            )
        if e.kind == "ensemble_started":
            return Text.assemble(
                who,
                f" runs an ensemble of {d.get('n')} ",
                _t(d.get("agent", "")),
                " (select ",
                _t(d.get("select", "")),
                ")",
            )
        if e.kind == "ensemble_selected":
            chosen = "none" if d.get("selected") is None else f"member {d.get('selected')}"
            return Text.assemble(
                "ensemble: selected ", chosen, " (", _t(d.get("reason") or "", 160), ")"
            )
        if e.kind == "tool_created":
            return Text.assemble(
                who,
                " wrote the tool ",
                _t(d.get("name", "")),
                f" v{d.get('version')} ({d.get('tests')} tests passed)",
            )
        if e.kind == "model_error":
            return Text.assemble(who, ": model error: ", _t(d.get("message", ""), 160))
        return None
