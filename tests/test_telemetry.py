"""OpenTelemetry export, checked against an in-process OTLP/HTTP collector that decodes the
protobuf payloads: span names, parents and GenAI attributes of a team run; a collector that is
down or never answers neither fails nor slows a run; the settings and their trust rules."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from opensage import Agent, telemetry
from opensage.config import load_config, load_trusted
from opensage.core.events import Event
from opensage.errors import ConfigError
from opensage.models import ScriptedModel, tool_call
from opensage.telemetry import parse_headers, settings_for
from opensage.telemetry.spans import RunSpans, span_id

from .ui.scenario import AGENTS, record


def _value(v: Any) -> Any:
    kind = v.WhichOneof("value")
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    return getattr(v, kind) if kind else None


class Collector:
    """A small OTLP/HTTP receiver on a free loopback port: it keeps every span it is sent."""

    def __init__(self, answer: bool = True):
        self.spans: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.resources: list[dict[str, Any]] = []
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                request = ExportTraceServiceRequest.FromString(body)
                collector.headers.append({k.lower(): v for k, v in self.headers.items()})
                for resource_spans in request.resource_spans:
                    collector.resources.append(
                        {a.key: _value(a.value) for a in resource_spans.resource.attributes}
                    )
                    for scope in resource_spans.scope_spans:
                        for s in scope.spans:
                            collector.spans.append(
                                {
                                    "name": s.name,
                                    "trace": s.trace_id.hex(),
                                    "id": s.span_id.hex(),
                                    "parent": s.parent_span_id.hex(),
                                    "kind": s.kind,
                                    "status": s.status.code,
                                    "start": s.start_time_unix_nano,
                                    "end": s.end_time_unix_nano,
                                    "attributes": {a.key: _value(a.value) for a in s.attributes},
                                    "events": [e.name for e in s.events],
                                    "scope": scope.scope.name,
                                    "event_attributes": [
                                        {a.key: _value(a.value) for a in e.attributes}
                                        for e in s.events
                                    ],
                                }
                            )
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector() -> Iterator[Collector]:
    running = Collector()
    yield running
    running.close()


@pytest.fixture(autouse=True)
def no_exporters_left() -> Iterator[None]:
    yield
    telemetry.shutdown(30)
    telemetry._exporters.clear()


def by_name(spans: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for s in spans:
        found.setdefault(s["name"], []).append(s)
    return found


def test_a_team_run_is_exported_as_one_trace_parented_as_its_agent_tree(collector, tmp_path):
    settings = (
        f'[telemetry]\nendpoint = "{collector.url}"\n'
        'headers = { authorization = "Bearer collector-key" }\n'
    )
    recorded = record(tmp_path / "home", tmp_path / "work", settings)
    telemetry.shutdown(30)  # the exporter sends what it has, then ends
    spans = collector.spans
    assert spans, "no span reached the collector"
    assert {s["trace"] for s in spans} == {spans[0]["trace"]}  # one trace for the run
    assert len({s["id"] for s in spans}) == len(spans)
    assert collector.headers[0]["authorization"] == "Bearer collector-key"
    assert collector.resources[0]["service.name"] == "opensage"
    ids = {s["id"]: s for s in spans}
    names = by_name(spans)
    (run,) = names["opensage run"]
    assert run["parent"] == "" and run["attributes"]["gen_ai.conversation.id"] == recorded.run_id
    assert run["attributes"]["opensage.stop_reason"] == "finished"

    def parent(span: dict[str, Any]) -> dict[str, Any]:
        return ids[span["parent"]]

    agents = {
        s["attributes"]["gen_ai.agent.name"]: s
        for s in spans
        if s["name"].startswith("invoke_agent ")
    }
    assert set(agents) == set(AGENTS)
    root = agents["root"]
    assert root["name"] == "invoke_agent root" and parent(root) is run
    assert root["attributes"]["gen_ai.operation.name"] == "invoke_agent"
    assert root["attributes"]["gen_ai.request.model"] == "function"
    assert root["attributes"]["opensage.agent.steps"] == 14
    for name in ("researcher", "helper"):  # under the call that started them
        call = parent(agents[name])
        assert call["name"] == "execute_tool run_agent" and parent(call) is root
    for i in range(3):  # members under the ensemble, under its call
        member = parent(agents[f"writer[{i}]"])
        ensemble = parent(member)
        assert member["name"] == f"ensemble member {i}"
        assert (
            ensemble["name"] == "ensemble writer"
            and parent(ensemble)["name"] == "execute_tool ensemble"
        )
    (ensemble,) = names["ensemble writer"]
    assert ensemble["attributes"]["opensage.ensemble.n"] == 3
    assert ensemble["attributes"]["opensage.ensemble.selected"] in (0, 1, 2)
    chats = names["chat function"]
    assert len(chats) == recorded.result.usage.requests
    for chat in chats:
        a = chat["attributes"]
        assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.request.model"] == "function"
        assert isinstance(a["gen_ai.usage.input_tokens"], int)
        assert isinstance(a["gen_ai.usage.output_tokens"], int)
        assert parent(chat)["name"].startswith("invoke_agent ")
        assert chat["kind"] == 3  # CLIENT
    assert (
        sum(c["attributes"]["gen_ai.usage.output_tokens"] for c in chats)
        == recorded.result.usage.output_tokens
    )
    tools = [s for s in spans if s["name"].startswith("execute_tool ")]
    for tool in tools:
        a = tool["attributes"]
        assert a["gen_ai.operation.name"] == "execute_tool"
        assert tool["name"] == f"execute_tool {a['gen_ai.tool.name']}"
        assert a["gen_ai.tool.call.id"] and a["gen_ai.tool.type"] == "function"
        assert tool["start"] <= tool["end"]
    (failed,) = [t for t in tools if t["status"] == 2]  # ERROR
    assert failed["name"] == "execute_tool read_file"
    assert failed["attributes"]["error.type"] == "exception"
    (created,) = [t for t in tools if t["name"] == "execute_tool create_tool"]
    assert "opensage.tool_created" in created["events"]
    assert {s["scope"] for s in spans} == {"opensage"}
    # No task, prompt, reply, argument, output or description left the machine.
    sent = json.dumps(spans)
    for text in (
        "greeting",
        "hello",
        "RESEARCH",
        "finds and keeps facts",
        "upper-cases",
        "MIDDLE-OF",
        "big.txt",
    ):
        assert text not in sent, text


def test_a_dead_collector_neither_fails_nor_slows_a_run(tmp_path, capfd):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    steps = [tool_call("list_files")] * 40 + [tool_call("finish", answer="done")]

    def run(home: Path) -> tuple[Any, float]:
        work = tmp_path / "work"
        work.mkdir(exist_ok=True)
        agent = Agent("root", model=ScriptedModel(list(steps)), kits=["files"], home=home)
        started = time.perf_counter()
        result = agent.run_sync("list", workdir=work)
        return result, time.perf_counter() - started

    run(tmp_path / "warm")  # imports, first files
    quiet, quiet_s = run(tmp_path / "off")
    home = tmp_path / "on"
    home.mkdir()
    (home / "opensage.toml").write_text(f'[telemetry]\nendpoint = "{dead}"\ntimeout_s = 1\n')
    traced, traced_s = run(home)
    assert traced.ok and traced.answer == quiet.answer == "done"
    assert traced_s < quiet_s + 0.5, (traced_s, quiet_s)
    started = time.monotonic()
    telemetry.shutdown(30)
    assert time.monotonic() - started < 8  # the exporter gives up within its timeouts
    reported = capfd.readouterr().err
    assert reported.count("opensage telemetry: could not send spans to") == 1
    assert f"{dead}/v1/traces" in reported


def test_a_collector_that_never_answers_does_not_hold_the_run(tmp_path):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepts connections, never answers
    try:
        home = tmp_path / "home"
        home.mkdir()
        (home / "opensage.toml").write_text(
            f'[telemetry]\nendpoint = "http://127.0.0.1:{silent.getsockname()[1]}"\ntimeout_s = 1\n'
        )
        work = tmp_path / "work"
        work.mkdir()
        steps = [tool_call("list_files")] * 10 + [tool_call("finish", answer="done")]
        started = time.perf_counter()
        result = Agent("root", model=ScriptedModel(steps), kits=["files"], home=home).run_sync(
            "go", workdir=work
        )
        assert result.ok and time.perf_counter() - started < 3
        ended = time.monotonic()
        telemetry.shutdown(30)
        assert time.monotonic() - ended < 8
    finally:
        silent.close()


def test_settings_come_from_a_trusted_file_or_the_standard_environment(home, tmp_path, monkeypatch):
    assert settings_for(load_config()) is None  # off unless configured
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-key=a%20b,other=2")
    found = settings_for(load_config())
    assert found is not None and found.endpoint == "http://collector:4318/v1/traces"
    assert found.headers == {"x-key": "a b", "other": "2"}
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4318/custom")
    assert settings_for(load_config()).endpoint == "http://traces:4318/custom"
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert settings_for(load_config()) is None
    monkeypatch.delenv("OTEL_SDK_DISABLED")
    home.mkdir(exist_ok=True)
    (home / "opensage.toml").write_text(
        '[telemetry]\nendpoint = "https://otel.example:4318"\nservice_name = "agents"\n'
        'headers = { authorization = "Bearer k" }\n'
    )
    found = settings_for(load_trusted(home))
    assert found.endpoint == "https://otel.example:4318/v1/traces"  # the file wins
    assert found.service_name == "agents" and found.headers == {"authorization": "Bearer k"}
    assert parse_headers("a=1, b = two ,broken") == {"a": "1", "b": "two"}


def test_a_project_file_may_not_send_traces_elsewhere_unless_trusted(home, tmp_path):
    (tmp_path / "opensage.toml").write_text('[telemetry]\nendpoint = "http://evil:4318"\n')
    with pytest.raises(ConfigError, match=r"telemetry\.endpoint.*sends every run's trace"):
        load_config()
    (tmp_path / "opensage.toml").write_text('[telemetry]\nendpoint = "file:///etc/passwd"\n')
    with pytest.raises(ConfigError, match="must be an http:// or https:// URL"):
        load_config()
    from opensage.config import trust_file

    (tmp_path / "opensage.toml").write_text('[telemetry]\nendpoint = "http://mine:4318"\n')
    trust_file(tmp_path / "opensage.toml", home)
    assert load_config().telemetry_endpoint == "http://mine:4318"


def test_a_resumed_session_gives_its_own_spans_under_the_same_trace():
    from opentelemetry.sdk.resources import Resource

    run = "20260101-000000-abcdef"

    def event(i: int, kind: str, parent: int | None, **data: Any) -> Event:
        return Event(i, run, parent, float(i), kind, "root", data)

    first = [
        event(1, "run_started", None, agent={"name": "root", "model": "m"}),
        event(2, "agent_started", 1, name="root", model="openai:gpt-5-mini"),
        event(3, "model_request", 2, step=1, conv=2),
        event(4, "model_response", 3, step=1, usage={"input_tokens": 5, "output_tokens": 2}),
        event(5, "tool_call", 4, name="slow", call_id="c1"),
    ]
    later = [
        event(6, "run_resumed", 1, pid=42),
        event(7, "agent_resumed", 2),
        event(8, "model_request", 2, step=2, conv=2),
        event(9, "model_response", 8, step=2, usage={}),
        event(10, "agent_finished", 2, stop_reason="finished", usage={}, steps=2),
        event(11, "run_finished", 1, stop_reason="finished", usage={}),
    ]
    killed = RunSpans(run, Resource.create({}))
    given = [s for e in first for s in killed.add(e)]
    assert [s.name for s in given] == ["chat gpt-5-mini"]
    assert given[0].attributes["gen_ai.provider.name"] == "openai"
    ended = killed.close()
    assert [s.name for s in ended] == ["execute_tool slow", "invoke_agent root", "opensage run"]
    assert all(s.attributes["opensage.interrupted"] for s in ended)
    resumed = RunSpans(run, Resource.create({}), resumed_by=42)
    again = [s for e in first + later for s in resumed.add(e)]
    names = [s.name for s in again]
    assert names == ["chat gpt-5-mini", "invoke_agent root", "execute_tool slow", "opensage run"]
    by_name = {s.name: s for s in again}
    root, run_span = by_name["invoke_agent root"], by_name["opensage run"]
    assert root.context.span_id == span_id(run, 2, 6) != span_id(run, 2)
    assert root.parent.span_id == run_span.context.span_id
    assert by_name["chat gpt-5-mini"].parent.span_id == root.context.span_id
    assert {s.context.trace_id for s in again + ended} == {killed.trace}
    assert json.dumps(sorted(names))  # plain names, no object leaked into them
