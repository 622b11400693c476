"""OpenTelemetry: runs exported as traces over OTLP/HTTP, so that Jaeger, Phoenix, Langfuse or
any OTLP collector shows them (spans for the run, its agents, model calls and tool calls, after
the GenAI semantic conventions: see spans.py).

Off unless configured: `[telemetry] endpoint` in a trusted opensage.toml (a project's file may
not send data elsewhere unless trusted), or the standard OTEL_EXPORTER_OTLP_ENDPOINT (or
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) in the environment; OTEL_SDK_DISABLED=true turns it off.
Needs the `telemetry` extra.

The core knows nothing of this: the composition root adds `listener_for(config, run_id)` to the
event log's listeners. That listener only tells an exporter process (one per OpenSage process
and destination, `python -m opensage.telemetry.exporter`) which runs to follow; the exporter
reads their events from the log (read-only, as the viewer does), builds the spans and sends
them with a batch processor in its own thread. So exporting costs the run nothing measurable,
and a collector that is down, slow or wrong can neither slow nor break it: the exporter gives
up after short timeouts, reports the first failure once, and ends by itself when the process
that ran the runs is gone.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import subprocess
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from opensage.config import Config
    from opensage.core.events import Listener

log = logging.getLogger("opensage.telemetry")
TRACES_PATH = "/v1/traces"
TIMEOUT_S = 5.0  # each export request's timeout: a collector that is down costs this at most


@dataclass(frozen=True)
class TelemetrySettings:
    endpoint: str  # the OTLP/HTTP traces URL (…/v1/traces)
    headers: dict[str, str] = field(default_factory=dict)
    service_name: str = "opensage"
    timeout_s: float = TIMEOUT_S

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def traces_url(base: str) -> str:
    """The traces URL of an OTLP/HTTP endpoint given as its base URL, as
    OTEL_EXPORTER_OTLP_ENDPOINT is (a URL already ending in /v1/traces is kept)."""
    base = base.rstrip("/")
    return base if base.endswith(TRACES_PATH) else base + TRACES_PATH


def parse_headers(text: str) -> dict[str, str]:
    """OTEL_EXPORTER_OTLP_HEADERS: `key=value,key2=value2`, values percent-encoded."""
    headers = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            headers[key.strip().lower()] = unquote(value.strip())
    return headers


def settings_for(config: Config) -> TelemetrySettings | None:
    """Where this configuration sends traces, or None when telemetry is off."""
    env = os.environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    service = env.get("OTEL_SERVICE_NAME") or config.telemetry_service_name or "opensage"
    timeout = config.telemetry_timeout_s or TIMEOUT_S
    if config.telemetry_endpoint:
        return TelemetrySettings(
            traces_url(config.telemetry_endpoint), dict(config.telemetry_headers), service, timeout
        )
    headers = parse_headers(env.get("OTEL_EXPORTER_OTLP_HEADERS", ""))
    headers.update(parse_headers(env.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "")))
    if env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        return TelemetrySettings(
            env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"], headers, service, timeout
        )
    if env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return TelemetrySettings(
            traces_url(env["OTEL_EXPORTER_OTLP_ENDPOINT"]), headers, service, timeout
        )
    return None


def available() -> bool:
    return all(
        importlib.util.find_spec(m) is not None
        for m in ("opentelemetry.sdk", "opentelemetry.exporter.otlp.proto.http")
    )


class Exporter:
    """The exporter process for one event log and one destination, started at the first run
    it is told of. Told of runs by a line each on its standard input, which closes when this
    process ends (however it ends): the exporter then finishes and exits."""

    def __init__(self, events: Path, settings: TelemetrySettings):
        self.events = events
        self.settings = settings
        self.process: subprocess.Popen[bytes] | None = None
        self.broken = False
        self._lock = threading.Lock()

    def follow(self, run_id: str, resumed_by: int | None = None) -> None:
        line = f"run\t{run_id}\n" if resumed_by is None else f"resume\t{run_id}\t{resumed_by}\n"
        with self._lock:
            if self.broken:
                return
            try:
                if self.process is None or self.process.poll() is not None:
                    self.process = self._start()
                assert self.process.stdin is not None
                self.process.stdin.write(line.encode())
                self.process.stdin.flush()
            except OSError as exc:
                self.broken = True
                log.warning(
                    "telemetry is off for this process: the exporter could not be "
                    "started or reached (%s)",
                    exc,
                )

    def _start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "opensage.telemetry.exporter"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )  # Ctrl-C is the run's alone
        assert process.stdin is not None
        # The settings go through the pipe, not the command line: headers may hold a key.
        process.stdin.write(
            json.dumps(
                {**asdict(self.settings), "events": str(self.events), "parent": os.getpid()}
            ).encode()
            + b"\n"
        )
        return process

    def close(self, timeout_s: float = 30.0) -> int | None:
        """Tell the exporter no more runs come, and wait for it to send what it has."""
        with self._lock:
            process, self.process = self.process, None
        if process is None:
            return None
        if process.stdin is not None:
            process.stdin.close()
        try:
            return process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            return process.wait()


_exporters: dict[tuple[str, str], Exporter] = {}
_warned: set[str] = set()


def exporter_for(config: Config) -> Exporter | None:
    """This process's exporter for `config`'s event log and destination; None when telemetry
    is off (or its extra is missing, which is said once)."""
    settings = settings_for(config)
    if settings is None:
        return None
    if not available():
        if "extra" not in _warned:
            _warned.add("extra")
            log.warning(
                "telemetry is configured (%s) but the telemetry extra is not "
                "installed: pip install 'opensage[telemetry]'",
                settings.endpoint,
            )
        return None
    key = (str(config.events_path), settings.key())
    if key not in _exporters:
        _exporters[key] = Exporter(config.events_path, settings)
    return _exporters[key]


def listener_for(config: Config, run_id: str) -> Listener | None:
    """An event-log listener that has the run `run_id` exported, or None when telemetry is
    off. It acts on the run's start (or resume) alone: nothing else of the run goes through
    it."""
    exporter = exporter_for(config)
    if exporter is None:
        return None

    def listener(rid: str, kind: str, agent: str | None, data: dict[str, Any]) -> None:
        if rid != run_id:
            return
        if kind == "run_started":
            exporter.follow(run_id)
        elif kind == "run_resumed":
            exporter.follow(run_id, int(data.get("pid") or 0))

    return listener


def shutdown(timeout_s: float = 30.0) -> None:
    """End every exporter of this process after it has sent what it has (tests, servers that
    want their traces out before they stop)."""
    for exporter in list(_exporters.values()):
        exporter.close(timeout_s)
