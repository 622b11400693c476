"""The exporter process: `python -m opensage.telemetry.exporter`, started by the telemetry
listener of an OpenSage process (see __init__.py).

Its standard input carries its settings (one JSON line: the traces URL, headers, service name,
timeout, the event log's path), then one line per run to follow: `run RUN_ID`, or
`resume RUN_ID PID` for a run resumed by the process PID. It reads each run's events from the
log, read-only, as they are committed, turns them into spans (spans.py) and hands the finished
ones to a batch span processor, which exports them over OTLP/HTTP from its own thread. When its
input closes (the OpenSage process ended, however it ended), it reads what was committed last,
ends the spans of unfinished runs as interrupted, sends what it has within its timeouts, and
exits. The first failure to export is reported once, on standard error; later ones are not.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from opensage.core.events import Event
from opensage.telemetry.spans import RunSpans
from opensage.ui.db import ReadOnly
from opensage.version import __version__

POLL_S = 0.2
BATCH = 2000  # events read at a time
QUEUE = 200_000  # spans waiting to be sent


class _LastMessage(logging.Handler):
    """Keeps the OpenTelemetry SDK's last warning (why an export failed) instead of printing
    each one."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.last = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.last = record.getMessage()


class ReportedOnce(SpanExporter):
    """An exporter that says on standard error, once, that spans could not be sent, and
    where to, and why."""

    def __init__(self, inner: SpanExporter, endpoint: str, why: _LastMessage):
        self.inner = inner
        self.endpoint = endpoint
        self.why = why
        self.failed = 0
        self.sent = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.inner.export(spans)
        except Exception as exc:  # never let the exporter's thread die on a surprise
            self.why.last = repr(exc)
            result = SpanExportResult.FAILURE
        if result is SpanExportResult.SUCCESS:
            self.sent += len(spans)
            return result
        if not self.failed:
            reason = f" ({self.why.last[:300]})" if self.why.last else ""
            sys.stderr.write(
                f"opensage telemetry: could not send spans to {self.endpoint}"
                f"{reason}; runs go on, their spans are dropped, and further "
                "failures are not reported\n"
            )
            sys.stderr.flush()
        self.failed += len(spans)
        return result

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class Tail:
    """One run followed in the log."""

    def __init__(self, db: ReadOnly, run_id: str, resource: Resource, resumed_by: int | None):
        self.db = db
        self.run_id = run_id
        self.spans = RunSpans(run_id, resource, resumed_by)
        self.last = 0

    def read(self) -> list[ReadableSpan]:
        finished: list[ReadableSpan] = []
        while True:
            rows = self.db.rows(
                "SELECT id, run_id, parent, ts, kind, agent, data FROM events "
                "WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?",
                (self.run_id, self.last, BATCH),
            )
            for r in rows:
                finished += self.spans.add(
                    Event(r[0], r[1], r[2], r[3], r[4], r[5], orjson.loads(r[6]))
                )
                self.last = r[0]
            if len(rows) < BATCH:
                return finished


def _commands(lines: queue.Queue[list[str] | None]) -> None:
    for line in sys.stdin:
        lines.put(line.rstrip("\n").split("\t"))
    lines.put(None)  # the OpenSage process is gone


def main() -> int:
    # Background work: where cores are scarce, the runs it follows go first.
    with contextlib.suppress(OSError):
        os.nice(10)
    settings: dict[str, Any] = json.loads(sys.stdin.readline())
    why = _LastMessage()
    otel = logging.getLogger("opentelemetry")
    otel.addHandler(why)
    otel.propagate = False
    timeout = float(settings["timeout_s"])
    exporter = ReportedOnce(
        OTLPSpanExporter(
            endpoint=settings["endpoint"], headers=settings["headers"], timeout=timeout
        ),
        settings["endpoint"],
        why,
    )
    # A queue large enough for the spans of fast runs read in one go (the default 2048 would
    # drop some of a run of a thousand steps); sent in batches of up to 1024.
    processor = BatchSpanProcessor(
        exporter,
        max_queue_size=QUEUE,
        schedule_delay_millis=500,
        max_export_batch_size=1024,
        export_timeout_millis=timeout * 1000,
    )
    resource = Resource.create(
        {"service.name": settings["service_name"], "service.version": __version__}
    )
    db = ReadOnly(Path(settings["events"]))
    lines: queue.Queue[list[str] | None] = queue.Queue()
    threading.Thread(target=_commands, args=(lines,), daemon=True).start()
    tails: dict[str, Tail] = {}
    ending = False
    while not ending:
        try:  # idle, it waits for a run; following runs, it looks at the log often
            command = lines.get(timeout=POLL_S if tails else None)
        except queue.Empty:
            command = []
        while command is not None:
            if len(command) >= 2 and command[1] not in tails:
                resumed_by = int(command[2]) if command[0] == "resume" else None
                tails[command[1]] = Tail(db, command[1], resource, resumed_by)
            try:
                command = lines.get_nowait()
            except queue.Empty:
                break
        ending = command is None
        for run_id, tail in list(tails.items()):
            for span in tail.read():
                processor.on_end(span)
            if tail.spans.finished:
                del tails[run_id]
    for tail in tails.values():  # their process is gone before their end was recorded
        for span in tail.spans.close():
            processor.on_end(span)
    # Send what is left within the timeouts; never hang on a collector that is not there.
    watchdog = threading.Timer(timeout * 3 + 2, lambda: os._exit(3))
    watchdog.daemon = True
    watchdog.start()
    processor.shutdown()
    return 0 if not exporter.failed else 1


if __name__ == "__main__":
    sys.exit(main())
