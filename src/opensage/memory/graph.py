"""The execution graph of a run: a projection of its event log, rebuilt on demand, never stored.

Nodes: the agents, their model calls, their tool calls, errors, the files tools read or changed,
and what tools produced (written tools, memory entries). Edges say how they connect:
  spawned   a tool call (run_agent, ensemble) started an agent
  called    an agent made a model call
  produced  a model call produced a tool call; a tool call produced a tool or a memory entry
  read / modified   a tool call read or changed a file
  caused    a tool call or model call ended in an error
  fixed     a later successful call of the same tool by the same agent, after an error
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from opensage.core.events import EventLog

# Tools whose `path` argument names a file they read or change.
FILE_TOOLS = {"read_file": "read", "write_file": "modified"}


@dataclass
class Node:
    id: str  # "e<event id>" for what an event recorded, "file:<path>" for files
    kind: str  # agent | model_call | tool_call | error | file | tool | memory
    label: str
    ts: float = 0.0
    agent: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    kind: str


class ExecutionGraph:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self._out: dict[str, list[Edge]] = defaultdict(list)
        self._in: dict[str, list[Edge]] = defaultdict(list)

    def add(self, node: Node) -> Node:
        self.nodes.setdefault(node.id, node)
        return self.nodes[node.id]

    def connect(self, src: str, dst: str, kind: str) -> None:
        edge = Edge(src, dst, kind)
        self.edges.append(edge)
        self._out[src].append(edge)
        self._in[dst].append(edge)

    # --- building -----------------------------------------------------------------------------

    @classmethod
    def from_log(cls, log: EventLog, run_id: str) -> ExecutionGraph:
        graph = cls()
        events = log.events(run_id)
        by_id = {e.id: e for e in events}
        messages = log.messages_by_event(run_id)
        arguments: dict[str, dict[str, Any]] = {}  # call id -> parsed arguments
        agent_of_conv: dict[int, str] = {}  # agent_started event -> its node
        last_failure: dict[tuple[str | None, str], str] = {}  # (agent, tool) -> error node

        for e in events:
            node_id = f"e{e.id}"
            if e.kind == "agent_started":
                graph.add(
                    Node(
                        node_id, "agent", e.data["name"], e.ts, e.agent, {"model": e.data["model"]}
                    )
                )
                agent_of_conv[e.id] = node_id
                parent = by_id.get(e.parent) if e.parent else None
                if parent is not None and parent.kind in ("tool_call", "ensemble_member"):
                    spawner = parent if parent.kind == "tool_call" else _call_of(parent, by_id)
                    if spawner is not None:
                        graph.connect(f"e{spawner.id}", node_id, "spawned")
            elif e.kind == "model_response":
                request = by_id.get(e.parent) if e.parent else None
                label = f"step {e.data['step']}" if "step" in e.data else e.data["purpose"]
                graph.add(
                    Node(node_id, "model_call", label, e.ts, e.agent, {"usage": e.data["usage"]})
                )
                if request is not None and request.parent in agent_of_conv:
                    graph.connect(agent_of_conv[request.parent], node_id, "called")
                message = messages.get(e.id)
                for call in message.tool_calls if message else ():
                    arguments[call.id] = _parse(call.arguments)
            elif e.kind == "tool_call":
                args = arguments.get(e.data["call_id"], {})
                graph.add(
                    Node(
                        node_id,
                        "tool_call",
                        f"{e.data['name']}({_brief(args)})",
                        e.ts,
                        e.agent,
                        {"name": e.data["name"], "arguments": args},
                    )
                )
                if e.parent is not None:
                    graph.connect(f"e{e.parent}", node_id, "produced")
                how = FILE_TOOLS.get(e.data["name"])
                if how and isinstance(args.get("path"), str):
                    path = args["path"]
                    graph.add(Node(f"file:{path}", "file", path))
                    graph.connect(node_id, f"file:{path}", how)
            elif e.kind == "tool_result" and e.parent is not None:
                call_node = graph.nodes.get(f"e{e.parent}")
                if call_node is None:
                    continue
                call_node.data.update(ok=e.data["ok"], error=e.data["error"])
                key = (e.agent, e.data["name"])
                if not e.data["ok"]:
                    message = messages.get(e.id)
                    text = message.content if message else ""
                    graph.add(
                        Node(
                            node_id,
                            "error",
                            text[:200],
                            e.ts,
                            e.agent,
                            {"kind": e.data["error"], "text": text},
                        )
                    )
                    graph.connect(call_node.id, node_id, "caused")
                    last_failure[key] = node_id
                elif key in last_failure:
                    graph.connect(call_node.id, last_failure.pop(key), "fixed")
            elif e.kind == "model_error" and e.parent is not None:
                graph.add(
                    Node(
                        node_id,
                        "error",
                        e.data["message"][:200],
                        e.ts,
                        e.agent,
                        {"kind": e.data["error"]},
                    )
                )
                request = by_id.get(e.parent)
                if request is not None and request.parent in agent_of_conv:
                    graph.connect(agent_of_conv[request.parent], node_id, "caused")
            elif e.kind in ("tool_created", "memory_written") and e.parent is not None:
                kind = "tool" if e.kind == "tool_created" else "memory"
                label = e.data.get("name") or f"entry {e.data.get('id')}"
                graph.add(Node(node_id, kind, str(label), e.ts, e.agent, dict(e.data)))
                graph.connect(f"e{e.parent}", node_id, "produced")
            elif e.kind == "ensemble_selected":
                for path in e.data.get("changed", []):
                    graph.add(Node(f"file:{path}", "file", path))
                    started = by_id.get(e.parent) if e.parent else None
                    if started is not None and started.parent is not None:
                        graph.connect(f"e{started.parent}", f"file:{path}", "modified")
        return graph

    # --- queries ------------------------------------------------------------------------------

    def neighbours(self, node_id: str, kind: str | None = None) -> list[tuple[str, str, Node]]:
        """(direction, edge kind, node) for each edge at `node_id`; direction is out or in."""
        found = [("out", e.kind, self.nodes[e.dst]) for e in self._out[node_id]]
        found += [("in", e.kind, self.nodes[e.src]) for e in self._in[node_id]]
        return [f for f in found if kind is None or f[1] == kind]

    def path(self, start: str, goal: str) -> list[str]:
        """The shortest chain of nodes joining two nodes (edges in either direction)."""
        previous: dict[str, str | None] = {start: None}
        queue = deque([start])
        while queue:
            current = queue.popleft()
            if current == goal:
                chain = [current]
                while previous[chain[-1]] is not None:
                    chain.append(previous[chain[-1]])  # type: ignore[arg-type]
                return chain[::-1]
            for _, _, node in self.neighbours(current):
                if node.id not in previous:
                    previous[node.id] = current
                    queue.append(node.id)
        return []

    def timeline(self, agent: str | None = None) -> list[Node]:
        steps = [n for n in self.nodes.values() if n.kind not in ("file",)]
        return sorted(
            (n for n in steps if agent is None or n.agent == agent), key=lambda n: (n.ts, n.id)
        )

    def files_changed(self) -> dict[str, list[str]]:
        """Each changed file, with the calls that changed it."""
        changed: dict[str, list[str]] = defaultdict(list)
        for e in self.edges:
            if e.kind == "modified":
                changed[self.nodes[e.dst].label].append(e.src)
        return dict(changed)

    def errors(self) -> list[tuple[Node, Node | None]]:
        """Each error, with the call that fixed it (None if nothing did)."""
        found = []
        for node in self.nodes.values():
            if node.kind == "error":
                fix = next(
                    (self.nodes[e.src] for e in self._in[node.id] if e.kind == "fixed"), None
                )
                found.append((node, fix))
        return sorted(found, key=lambda pair: pair[0].ts)


def _call_of(member: Any, by_id: dict[int, Any]) -> Any:
    """The tool call (ensemble) above an ensemble member."""
    started = by_id.get(member.parent) if member.parent else None
    return by_id.get(started.parent) if started is not None and started.parent else None


def _parse(arguments: str) -> dict[str, Any]:
    try:
        value = json.loads(arguments) if arguments else {}
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _brief(args: dict[str, Any]) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in args.items())
    return text if len(text) <= 80 else text[:79] + "…"
