"""A run's team as a tree of agents, projected from its events: who started whom (through which
tool call, in which ensemble), each agent's model, steps, tokens, cost, current activity and
outcome; the ensembles with their members and choice; the agents, tools and memory the run made;
its errors.

Built incrementally (`add` one event at a time, in the log's order), so the same projection
serves a finished run read from the log (the viewer's API), a run being watched live (the
terminal's tree, fed by the log's observers) and anything else that follows a run. It reads
event data only; the viewer adds what lives in messages (a call's arguments, an ensemble's
verification results).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

from opensage.core.events import Event

USAGE_KEYS = ("requests", "input_tokens", "output_tokens", "total_tokens", "cost_usd")


def _usage() -> dict[str, float]:
    return dict.fromkeys(USAGE_KEYS, 0)


@dataclass(slots=True)
class ToolCallNode:
    event: int
    name: str
    ts: float
    result: int | None = None  # its tool_result event
    ok: bool | None = None  # None while it runs
    error: str | None = None  # the kind of failure (failed, timeout, bad_arguments...)
    duration_s: float | None = None
    chars: int | None = None
    cut: bool = False  # the model saw it cut; the log keeps the full output


@dataclass
class AgentNode:
    id: int  # its agent_started event, which is also its conversation's id
    name: str
    model: str
    started: float
    parent: int | None = None  # the agent that started it; None for the run's root agent
    via: int | None = None  # the event it hangs under (a tool call, an ensemble member)
    via_tool: str | None = None  # the name of that tool call (run_agent, ensemble...)
    spec: str = ""  # the agent definition it runs (an ensemble member's is the ensemble's)
    tools: list[str] = field(default_factory=list)
    steps: int = 0
    step: int = 0  # the step it is on
    usage: dict[str, float] = field(default_factory=_usage)  # its own model calls
    doing: str = "starting"
    ended: float | None = None
    outcome: dict[str, Any] | None = None  # its agent_finished data
    ensemble: int | None = None  # the ensemble_started event, for a member
    member: int | None = None  # its index in that ensemble
    background: bool = False  # started with run_agent(background=True) (set by the viewer)
    retired: bool = False
    children: list[int] = field(default_factory=list)
    tool_calls: list[ToolCallNode] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.ended is None


@dataclass
class EnsembleNode:
    id: int  # its ensemble_started event
    by: int | None  # the agent that asked for it
    via: int | None  # its tool call
    agent: str
    n: int
    select: str
    verify_command: str | None
    models: list[str] | None
    started: float
    members: dict[int, dict[str, Any]] = field(default_factory=dict)  # index -> member
    selected: int | None = None
    reason: str | None = None
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    done: bool = False


AGENT_FIELDS = tuple(f.name for f in fields(AgentNode) if f.name != "tool_calls")
CALL_FIELDS = tuple(f.name for f in fields(ToolCallNode))


class RunTree:
    """The agent tree of one run, fed its events in order."""

    def __init__(self, run_id: str = ""):
        self.run_id = run_id
        self.run: dict[str, Any] = {}  # run_started data
        self.finished: dict[str, Any] | None = None  # the last run_finished data
        self.started = 0.0
        self.ended: float | None = None
        self.last_ts = 0.0
        self.last_event = 0
        self.agents: dict[int, AgentNode] = {}
        self.roots: list[int] = []
        self.ensembles: dict[int, EnsembleNode] = {}
        self.created: list[dict[str, Any]] = []  # agent_created, with event and creator
        self.retired: dict[str, int] = {}  # agent name -> its agent_retired event
        self.tools: list[dict[str, Any]] = []  # tool_created and tool_rejected
        self.memory: list[dict[str, Any]] = []  # memory_written and memory_consolidated
        self.errors: list[dict[str, Any]] = []
        self.usage = _usage()  # every model call of the run
        self._owner: dict[int, int | None] = {}  # event -> the agent whose work it is
        self._kind: dict[int, str] = {}
        self._calls: dict[int, ToolCallNode] = {}
        self._members: dict[int, tuple[int, int]] = {}  # member event -> (ensemble, index)

    @classmethod
    def of(cls, events: list[Event]) -> RunTree:
        tree = cls(events[0].run_id if events else "")
        for event in events:
            tree.add(event)
        return tree

    # --- feeding ------------------------------------------------------------------------------

    def add(self, e: Event) -> None:
        self.last_event = max(self.last_event, e.id)
        self.last_ts = max(self.last_ts, e.ts)
        self._kind[e.id] = e.kind
        owner = self._owner.get(e.parent) if e.parent is not None else None
        self._owner[e.id] = owner
        handler = getattr(self, f"_on_{e.kind}", None)
        if handler is not None:
            handler(e, owner)

    def _on_run_started(self, e: Event, owner: int | None) -> None:
        self.run_id = e.run_id
        self.run, self.started = e.data, e.ts

    def _on_run_resumed(self, e: Event, owner: int | None) -> None:
        self.finished, self.ended = None, None  # live again

    def _on_run_finished(self, e: Event, owner: int | None) -> None:
        self.finished, self.ended = e.data, e.ts

    def _on_agent_started(self, e: Event, owner: int | None) -> None:
        d = e.data
        node = AgentNode(
            id=e.id,
            name=str(d.get("name", e.agent or "?")),
            model=str(d.get("model", "")),
            started=e.ts,
            parent=owner,
            via=e.parent,
            tools=list(d.get("tools") or []),
        )
        node.spec = node.name
        via_kind = self._kind.get(e.parent) if e.parent is not None else None
        if via_kind == "tool_call" and e.parent in self._calls:
            node.via_tool = self._calls[e.parent].name
        elif via_kind == "ensemble_member" and e.parent in self._members:
            ensemble, index = self._members[e.parent]
            node.ensemble, node.member, node.via_tool = ensemble, index, "ensemble"
            node.spec = self.ensembles[ensemble].agent
            self.ensembles[ensemble].members[index]["agent"] = e.id
        node.retired = node.spec in self.retired
        self.agents[e.id] = node
        self._owner[e.id] = e.id
        if owner is not None and owner in self.agents:
            self.agents[owner].children.append(e.id)
        else:
            self.roots.append(e.id)

    def _on_agent_resumed(self, e: Event, owner: int | None) -> None:
        node = self.agents.get(owner) if owner is not None else None
        if node is not None:
            node.ended, node.outcome, node.doing = None, None, "resumed"

    def _on_agent_finished(self, e: Event, owner: int | None) -> None:
        node = self.agents.get(owner) if owner is not None else None
        if node is None:
            return
        node.ended, node.outcome = e.ts, e.data
        node.doing = str(e.data.get("stop_reason", "finished"))
        if node.doing not in ("finished", "cancelled"):
            self._error(e, owner, node.doing, str(e.data.get("message", "")))

    def _on_model_request(self, e: Event, owner: int | None) -> None:
        node = self.agents.get(owner) if owner is not None else None
        if node is None:
            return
        if "purpose" in e.data:
            node.doing = f"asking for {e.data['purpose']}"
        else:
            node.step = int(e.data.get("step", node.step + 1))
            node.doing = "thinking"

    def _on_model_response(self, e: Event, owner: int | None) -> None:
        usage = e.data.get("usage") or {}
        for key in USAGE_KEYS:
            self.usage[key] += usage.get(key, 0) or 0
        node = self.agents.get(owner) if owner is not None else None
        if node is None:
            return
        for key in USAGE_KEYS:
            node.usage[key] += usage.get(key, 0) or 0
        if "step" in e.data:
            node.steps += 1

    def _on_model_error(self, e: Event, owner: int | None) -> None:
        self._error(
            e, owner, str(e.data.get("error", "model_error")), str(e.data.get("message", ""))
        )

    def _on_tool_call(self, e: Event, owner: int | None) -> None:
        call = ToolCallNode(event=e.id, name=str(e.data.get("name", "")), ts=e.ts)
        self._calls[e.id] = call
        node = self.agents.get(owner) if owner is not None else None
        if node is not None:
            node.tool_calls.append(call)
            node.doing = f"running {call.name}"

    def _on_tool_result(self, e: Event, owner: int | None) -> None:
        call = self._calls.get(e.parent) if e.parent is not None else None
        if call is None:
            return
        d = e.data
        call.result, call.ok, call.error = e.id, bool(d.get("ok")), d.get("error")
        call.duration_s, call.chars = d.get("duration_s"), d.get("chars")
        call.cut = "full_output" in d
        if not call.ok:
            self._error(e, owner, str(call.error or "error"), f"{call.name} failed")

    def _on_agent_created(self, e: Event, owner: int | None) -> None:
        self.created.append(
            {**e.data, "event": e.id, "by": owner, "retired": bool(e.data.get("retired"))}
        )

    def _on_agent_retired(self, e: Event, owner: int | None) -> None:
        name = str(e.data.get("name", ""))
        self.retired[name] = e.id
        for created in self.created:
            if created.get("name") == name:
                created["retired"] = True
        for node in self.agents.values():
            if node.spec == name:
                node.retired = True

    def _on_ensemble_started(self, e: Event, owner: int | None) -> None:
        d = e.data
        self.ensembles[e.id] = EnsembleNode(
            id=e.id,
            by=owner,
            via=e.parent,
            agent=str(d.get("agent", "")),
            n=int(d.get("n", 0)),
            select=str(d.get("select", "")),
            verify_command=d.get("verify_command"),
            models=d.get("models"),
            started=e.ts,
        )

    def _on_ensemble_member(self, e: Event, owner: int | None) -> None:
        ensemble = self.ensembles.get(e.parent) if e.parent is not None else None
        if ensemble is None:
            return
        index = int(e.data.get("index", len(ensemble.members)))
        ensemble.members[index] = {
            "index": index,
            "event": e.id,
            "model": e.data.get("model"),
            "agent": None,
        }
        self._members[e.id] = (ensemble.id, index)

    def _on_ensemble_selected(self, e: Event, owner: int | None) -> None:
        ensemble = self.ensembles.get(e.parent) if e.parent is not None else None
        if ensemble is None:
            return
        d = e.data
        ensemble.selected, ensemble.reason, ensemble.done = d.get("selected"), d.get("reason"), True
        ensemble.changed, ensemble.deleted = list(d.get("changed", [])), list(d.get("deleted", []))

    def _on_tool_created(self, e: Event, owner: int | None) -> None:
        self.tools.append(
            {"kind": "created", **e.data, "event": e.id, "agent": e.agent, "by": owner}
        )

    def _on_tool_rejected(self, e: Event, owner: int | None) -> None:
        self.tools.append(
            {"kind": "rejected", **e.data, "event": e.id, "agent": e.agent, "by": owner}
        )

    def _on_memory_written(self, e: Event, owner: int | None) -> None:
        self.memory.append(
            {
                "how": "written",
                "id": e.data.get("id"),
                "kind": e.data.get("kind"),
                "event": e.id,
                "agent": e.agent,
            }
        )

    def _on_memory_consolidated(self, e: Event, owner: int | None) -> None:
        for key, how in (("written", "consolidated"), ("curated", "curated")):
            for entry in e.data.get(key) or []:
                self.memory.append(
                    {"how": how, "id": entry, "kind": None, "event": e.id, "agent": e.agent}
                )

    def _error(self, e: Event, owner: int | None, kind: str, message: str) -> None:
        self.errors.append(
            {
                "event": e.id,
                "kind": kind,
                "message": message[:2000],
                "agent": e.agent,
                "node": owner,
                "ts": e.ts,
            }
        )

    # --- reading ------------------------------------------------------------------------------

    @property
    def status(self) -> str:
        if self.finished is not None:
            return str(self.finished.get("stop_reason", "finished"))
        return "running"

    def call(self, event: int) -> ToolCallNode | None:
        return self._calls.get(event)

    def owner(self, event: int) -> int | None:
        """The agent whose work an event is (None for the run's own events)."""
        return self._owner.get(event)

    def walk(self) -> list[tuple[int, AgentNode]]:
        """Every agent with its depth, depth first in the order they started."""
        out: list[tuple[int, AgentNode]] = []

        def visit(node_id: int, depth: int) -> None:
            node = self.agents[node_id]
            out.append((depth, node))
            for child in node.children:
                visit(child, depth + 1)

        for root in self.roots:
            visit(root, 0)
        return out

    def agent_dict(self, node: AgentNode) -> dict[str, Any]:
        d = {f: getattr(node, f) for f in AGENT_FIELDS}  # shallow: asdict copies deeply, slowly
        d["usage"] = dict(node.usage)
        d["tools"], d["children"] = list(node.tools), list(node.children)
        d["tool_calls"] = [{f: getattr(c, f) for f in CALL_FIELDS} for c in node.tool_calls]
        d["running"] = node.running
        d["selected"] = (
            node.ensemble is not None and self.ensembles[node.ensemble].selected == node.member
        )
        return d

    def ensemble_dict(self, ensemble: EnsembleNode) -> dict[str, Any]:
        d = asdict(ensemble)
        d["members"] = [ensemble.members[i] for i in sorted(ensemble.members)]
        return d
