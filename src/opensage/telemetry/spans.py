"""A run's events as OpenTelemetry spans, following the GenAI semantic conventions.

    opensage run                      the run (gen_ai.conversation.id = the run id)
      invoke_agent root               each agent (gen_ai.agent.name, gen_ai.request.model)
        chat gpt-5-mini               each model call (gen_ai.usage.input_tokens, ...)
        execute_tool run_agent        each tool call (gen_ai.tool.name, gen_ai.tool.call.id)
          invoke_agent researcher     an agent that call started, under it
        execute_tool ensemble
          ensemble writer             an ensemble, its members, and its choice
            ensemble member 0
              invoke_agent writer[0]

Spans are parented as the agent tree is (a sub-agent under the call that started it) and timed
by the events' own timestamps. Their ids come from the run id and event ids, so the spans of a
resumed run join the trace of its first session. What else happens (an agent or tool created,
memory written, a context compacted) becomes an event of the span it happened in. No message
content is exported (no task, prompt, reply, tool argument or output, description): only names,
models, counts, costs, outcomes and error messages.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event as SpanEvent
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

from opensage.core.events import Event
from opensage.version import __version__

SCOPE = InstrumentationScope("opensage", __version__)
PROVIDERS = {"openai": "openai", "anthropic": "anthropic", "local": "llama_cpp"}
NAMES = frozenset({"name", "stage", "kind", "model", "tools", "budget"})  # span-event text
COUNTED = frozenset({"written", "superseded", "already_known", "curated", "events"})
NOTED = (
    "agent_created",
    "agent_retired",
    "tool_created",
    "tool_rejected",
    "memory_written",
    "memory_consolidated",
    "context_compacted",
    "agent_resumed",
    "run_resumed",
)


def trace_id(run_id: str) -> int:
    return int(hashlib.sha256(f"opensage-run:{run_id}".encode()).hexdigest()[:32], 16) or 1


def span_id(run_id: str, event: int, salt: int = 0) -> int:
    digest = hashlib.sha256(f"{run_id}:{event}:{salt}".encode()).hexdigest()[:16]
    return int(digest, 16) or 1


def model_attributes(spec: str) -> dict[str, str]:
    """gen_ai.provider.name and gen_ai.request.model of a model spec (openai:gpt-5-mini)."""
    provider, _, name = spec.partition(":")
    if not name:
        return {
            "gen_ai.provider.name": f"opensage.{provider or 'unknown'}",
            "gen_ai.request.model": provider,
        }
    return {"gen_ai.provider.name": PROVIDERS.get(provider, provider), "gen_ai.request.model": name}


def _ns(ts: float) -> int:
    return int(ts * 1e9)


@dataclass
class Open:
    """A span not yet ended."""

    event: int
    name: str
    kind: SpanKind
    start: int
    parent: Open | None
    attributes: dict[str, Any]
    span_id: int
    events: list[SpanEvent] = field(default_factory=list)
    model: str = ""  # an agent's model spec, for its chat spans


class RunSpans:
    """Turns one run's events, fed in order, into finished spans. `resumed_by`: the pid of the
    process whose run_resumed event starts the session being exported; spans that ended before
    it belong to an earlier session and are not given again, and those still open then go on
    under ids of their own."""

    def __init__(self, run_id: str, resource: Resource, resumed_by: int | None = None):
        self.run_id = run_id
        self.trace = trace_id(run_id)
        self.resource = resource
        self.resumed_by = resumed_by  # the pid whose run_resumed starts this session
        self.live = resumed_by is None  # whether finished spans are given (after the boundary)
        self.salt = 0
        self.open: dict[int, Open] = {}  # by the event that started each
        self._scope: dict[int, Open | None] = {}  # event -> the span it happened in
        self._member_of: dict[int, Open] = {}  # agent span -> its ensemble member's span
        self.finished = False
        self.last_ts = 0.0

    # --- feeding ------------------------------------------------------------------------------

    def add(self, e: Event) -> list[ReadableSpan]:
        """The spans this event ends (none before this session's start)."""
        self.last_ts = max(self.last_ts, e.ts)
        here = self._scope.get(e.parent) if e.parent is not None else None
        self._scope[e.id] = here
        done: list[Open] = []
        kind, d = e.kind, e.data
        if kind == "run_started":
            run = self._start(
                e,
                "opensage run",
                SpanKind.INTERNAL,
                None,
                {
                    "gen_ai.conversation.id": self.run_id,
                    "opensage.run.id": self.run_id,
                    "gen_ai.agent.name": (d.get("agent") or {}).get("name", ""),
                    "opensage.model.spec": (d.get("agent") or {}).get("model", ""),
                },
            )
            self._scope[e.id] = run
        elif kind == "run_resumed":
            self._scope[e.id] = here
            if not self.live and d.get("pid") == self.resumed_by:
                self._continue(e.id)
        elif kind == "run_finished":
            done += self._end_all(e)
            self.finished = True
        elif kind == "agent_started":
            model = str(d.get("model", ""))
            span = self._start(
                e,
                f"invoke_agent {d.get('name', '')}",
                SpanKind.INTERNAL,
                here,
                {
                    "gen_ai.operation.name": "invoke_agent",
                    "gen_ai.agent.name": d.get("name", ""),
                    "gen_ai.agent.id": f"{self.run_id}:{e.id}",
                    "gen_ai.conversation.id": self.run_id,
                    "opensage.model.spec": model,
                    **model_attributes(model),
                },
            )
            span.model = model
            self._scope[e.id] = span
            if here is not None and here.name.startswith("ensemble member"):
                self._member_of[e.id] = here
        elif kind == "agent_finished":
            agent = self.open.get(e.parent) if e.parent is not None else None
            if agent is not None:
                usage = d.get("usage") or {}
                reason = str(d.get("stop_reason", ""))
                agent.attributes.update(
                    {
                        "gen_ai.usage.input_tokens": int(usage.get("input_tokens", 0)),
                        "gen_ai.usage.output_tokens": int(usage.get("output_tokens", 0)),
                        "opensage.cost_usd": float(usage.get("cost_usd", 0.0)),
                        "opensage.agent.steps": int(d.get("steps", 0)),
                        "opensage.stop_reason": reason,
                    }
                )
                done.append(
                    self._end(
                        agent,
                        e.ts,
                        reason not in ("finished", "cancelled"),
                        str(d.get("message", "")),
                        reason,
                    )
                )
                member = self._member_of.pop(agent.event, None)
                if member is not None and member.event in self.open:
                    done.append(self._end(member, e.ts))
        elif kind == "model_request":
            spec = str(d.get("model") or (here.model if here is not None else ""))
            name = model_attributes(spec)["gen_ai.request.model"] if spec else "model"
            attributes: dict[str, Any] = {"gen_ai.operation.name": "chat", **model_attributes(spec)}
            if "step" in d:
                attributes["opensage.step"] = int(d["step"])
            if "purpose" in d:
                attributes["opensage.purpose"] = str(d["purpose"])
            self._scope[e.id] = self._start(e, f"chat {name}", SpanKind.CLIENT, here, attributes)
        elif kind in ("model_response", "model_error"):
            chat = self.open.get(e.parent) if e.parent is not None else None
            if chat is not None:
                self._scope[e.id] = chat.parent
                if kind == "model_response":
                    usage = d.get("usage") or {}
                    chat.attributes.update(
                        {
                            "gen_ai.usage.input_tokens": int(usage.get("input_tokens", 0)),
                            "gen_ai.usage.output_tokens": int(usage.get("output_tokens", 0)),
                            "opensage.cost_usd": float(usage.get("cost_usd", 0.0)),
                        }
                    )
                    if d.get("model"):
                        chat.attributes["gen_ai.response.model"] = str(d["model"])
                    if d.get("finish_reason"):
                        chat.attributes["gen_ai.response.finish_reasons"] = [
                            str(d["finish_reason"])
                        ]
                    done.append(self._end(chat, e.ts))
                else:
                    chat.attributes["error.type"] = str(d.get("error", "error"))
                    done.append(self._end(chat, e.ts, True, str(d.get("message", ""))))
        elif kind == "tool_call":
            name = str(d.get("name", ""))
            self._scope[e.id] = self._start(
                e,
                f"execute_tool {name}",
                SpanKind.INTERNAL,
                here,
                {
                    "gen_ai.operation.name": "execute_tool",
                    "gen_ai.tool.name": name,
                    "gen_ai.tool.call.id": str(d.get("call_id", "")),
                    "gen_ai.tool.type": "function",
                },
            )
        elif kind == "tool_result":
            call = self.open.get(e.parent) if e.parent is not None else None
            if call is not None:
                ok = bool(d.get("ok"))
                call.attributes.update(
                    {"opensage.tool.ok": ok, "opensage.tool.output_chars": int(d.get("chars", 0))}
                )
                if not ok:
                    call.attributes["error.type"] = str(d.get("error") or "error")
                done.append(self._end(call, e.ts, not ok, str(d.get("error") or "")))
        elif kind == "ensemble_started":
            self._scope[e.id] = self._start(
                e,
                f"ensemble {d.get('agent', '')}",
                SpanKind.INTERNAL,
                here,
                {
                    "opensage.ensemble.agent": str(d.get("agent", "")),
                    "opensage.ensemble.n": int(d.get("n", 0)),
                    "opensage.ensemble.select": str(d.get("select", "")),
                },
            )
        elif kind == "ensemble_member":
            self._scope[e.id] = self._start(
                e,
                f"ensemble member {d.get('index')}",
                SpanKind.INTERNAL,
                here,
                {"opensage.ensemble.member": int(d.get("index", 0))},
            )
        elif kind == "ensemble_selected":
            ensemble = self.open.get(e.parent) if e.parent is not None else None
            if ensemble is not None:
                chosen = d.get("selected")
                ensemble.attributes["opensage.ensemble.selected"] = (
                    -1 if chosen is None else int(chosen)
                )
                for member in [s for s in self.open.values() if s.parent is ensemble]:
                    done.append(self._end(member, e.ts))
                done.append(self._end(ensemble, e.ts))
        elif kind in NOTED and here is not None:
            here.events.append(SpanEvent(f"opensage.{kind}", _flat(d), _ns(e.ts)))
        return self._given(done)

    def close(self, why: str = "interrupted") -> list[ReadableSpan]:
        """End what is still open (the process that wrote the run is gone) at its last event."""
        done = []
        for span in sorted(self.open.values(), key=lambda s: -s.event):
            span.attributes["opensage.interrupted"] = True
            done.append(self._end(span, self.last_ts, True, why))
        return self._given(done)

    # --- spans --------------------------------------------------------------------------------

    def _start(
        self, e: Event, name: str, kind: SpanKind, parent: Open | None, attributes: dict[str, Any]
    ) -> Open:
        span = Open(
            e.id, name, kind, _ns(e.ts), parent, attributes, span_id(self.run_id, e.id, self.salt)
        )
        self.open[e.id] = span
        return span

    def _end(
        self, span: Open, ts: float, failed: bool = False, why: str = "", reason: str = ""
    ) -> Open:
        self.open.pop(span.event, None)
        span.attributes["_end"] = _ns(ts)
        span.attributes["_status"] = (StatusCode.ERROR, (why or reason)[:500]) if failed else None
        return span

    def _end_all(self, e: Event) -> list[Open]:
        run = next((s for s in self.open.values() if s.name == "opensage run"), None)
        done = [
            self._end(s, e.ts, True, "ended with the run")
            for s in sorted(self.open.values(), key=lambda s: -s.event)
            if s is not run
        ]
        if run is not None:
            reason = str(e.data.get("stop_reason", ""))
            usage = e.data.get("usage") or {}
            run.attributes.update(
                {
                    "opensage.stop_reason": reason,
                    "gen_ai.usage.input_tokens": int(usage.get("input_tokens", 0)),
                    "gen_ai.usage.output_tokens": int(usage.get("output_tokens", 0)),
                    "opensage.cost_usd": float(usage.get("cost_usd", 0.0)),
                }
            )
            done.append(
                self._end(
                    run,
                    e.ts,
                    reason not in ("finished", "cancelled"),
                    str(e.data.get("message", "")),
                    reason,
                )
            )
        return done

    def _continue(self, resumed: int) -> None:
        """This session starts at the event `resumed`: spans still open then go on under ids
        of this session (the earlier session ended them as interrupted, under theirs)."""
        self.live = True
        self.salt = resumed
        for span in self.open.values():
            span.span_id = span_id(self.run_id, span.event, resumed)

    def _given(self, done: list[Open]) -> list[ReadableSpan]:
        return [self._readable(s) for s in done] if self.live else []

    def _readable(self, span: Open) -> ReadableSpan:
        attributes = dict(span.attributes)
        end = attributes.pop("_end")
        status = attributes.pop("_status")
        context = SpanContext(
            self.trace, span.span_id, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED)
        )
        parent = None
        if span.parent is not None:
            parent = SpanContext(
                self.trace,
                span.parent.span_id,
                is_remote=False,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
            )
        return ReadableSpan(
            name=span.name,
            context=context,
            parent=parent,
            resource=self.resource,
            attributes={k: v for k, v in attributes.items() if v is not None},
            events=span.events,
            kind=span.kind,
            instrumentation_scope=SCOPE,
            status=Status(status[0], status[1]) if status else Status(StatusCode.OK),
            start_time=span.start,
            end_time=max(end, span.start),
        )


def _flat(data: dict[str, Any]) -> dict[str, Any]:
    """An event's data as span-event attributes: numbers, names, and lists of them; no text a
    model wrote (descriptions, messages, summaries)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, bool | int | float):
            out[key] = value
        elif isinstance(value, str) and key in NAMES:
            out[key] = value[:200]
        elif (
            isinstance(value, list)
            and key in NAMES | COUNTED
            and all(isinstance(v, str | int) for v in value)
        ):
            out[key] = [str(v) for v in value][:50]
    return out
