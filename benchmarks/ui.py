"""The viewer on a large run, and what telemetry costs the agent loop.

1. A real recorded run of about 10,000 events (a root agent running ten sub-agents of 200 steps
   each), served by `opensage ui`'s server: time to first byte of the run's page, of its API
   (the run with its agent tree) and of a page of its events; and the time until the run page is
   rendered in headless chromium (the tree drawn and the first page of the timeline shown),
   against the same for a run of a few dozen events. Target: under 1 s.
2. The loop's time per step with telemetry off and on (exporting to a collector in another
   process), alternating in this same process, medians of several runs. Target: under 10% more.

Prints a table with ratios and writes benchmarks/results/ui.json.

    .venv/bin/python benchmarks/ui.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
WORKERS, WORKER_STEPS = 10, 200
LOOP_STEPS = 1000

COLLECTOR = r"""
import os, sys, threading
os.nice(10)  # a stand-in for a collector on another machine: it yields to the run
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
count = [0]
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        request = ExportTraceServiceRequest.FromString(body)
        count[0] += sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
        self.send_response(200); self.send_header("content-length", "0"); self.end_headers()
    def do_GET(self):
        body = str(count[0]).encode()
        self.send_response(200); self.send_header("content-length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
server = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


async def echo(text: str) -> str:
    """Say a text back.

    Args:
        text: what to say.
    """
    return f"echo: {text} " + "." * 160


def record_big_run(home: Path) -> str:
    """A run of a root agent that runs a worker sub-agent ten times, 200 steps each."""
    from opensage import Agent, Tool
    from opensage.models import FunctionModel

    home.mkdir(parents=True, exist_ok=True)
    (home / "opensage.toml").write_text(
        "[limits]\nmax_steps = 100000\n[topology]\ndefault_max_steps = 1000\n"
        '[memory]\nembedder = "none"\n'
    )

    def reply(messages: Any, tools: Any) -> Any:
        asked = sum(m.role == "assistant" for m in messages)
        if messages[0].content == "ROOT":
            if asked == 0:
                return {
                    "tool_calls": [
                        {
                            "name": "create_agent",
                            "arguments": {
                                "name": "worker",
                                "instructions": "WORK",
                                "tools": ["echo"],
                            },
                        }
                    ]
                }
            if asked <= WORKERS:
                return {
                    "tool_calls": [
                        {
                            "name": "run_agent",
                            "arguments": {"name": "worker", "task": f"job {asked}"},
                        }
                    ]
                }
            return {"tool_calls": [{"name": "finish", "arguments": {"answer": "all done"}}]}
        if asked < WORKER_STEPS - 1:
            return {
                "text": f"step {asked}",
                "tool_calls": [{"name": "echo", "arguments": {"text": f"item {asked}"}}],
            }
        return {"tool_calls": [{"name": "finish", "arguments": {"answer": "worked"}}]}

    work = home.parent / "work"
    work.mkdir(exist_ok=True)
    agent = Agent(
        "root", "ROOT", model=FunctionModel(reply), tools=[Tool(echo)], kits=["topology"], home=home
    )
    result = agent.run_sync("run the workers", workdir=work)
    assert result.ok, result
    return result.run_id


def record_small_run(home: Path) -> str:
    from opensage import Agent, Tool
    from opensage.models import ScriptedModel, tool_call

    steps = [tool_call("echo", text=f"x{i}") for i in range(8)] + [
        tool_call("finish", answer="done")
    ]
    work = home.parent / "work"
    work.mkdir(exist_ok=True)
    result = Agent("small", model=ScriptedModel(steps), tools=[Tool(echo)], home=home).run_sync(
        "a small run", workdir=work
    )
    return result.run_id


def first_byte(port: int, path: str) -> float:
    """Seconds from sending a GET to the first byte of the answer."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.perf_counter()
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
        )
        sock.recv(1)
        waited = time.perf_counter() - started
        while sock.recv(65536):
            pass
    return waited


def rendered(browser: Any, url: str) -> float:
    page = browser.new_page(viewport={"width": 1360, "height": 900})
    started = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    took = time.perf_counter() - started
    rows = page.locator(".row").count()
    page.close()
    assert rows > 0
    return took


def viewer(repeat: int) -> dict[str, Any]:
    from opensage.core.events import EventLog

    folder = Path(tempfile.mkdtemp(prefix="opensage-bench-ui-"))
    home = folder / "home"
    started = time.perf_counter()
    big = record_big_run(home)
    small = record_small_run(home)
    recorded_s = time.perf_counter() - started
    events = len(EventLog(home / "events.db").events(big))
    server, port = _viewer(home)
    out: dict[str, Any] = {"events": events, "recorded_s": recorded_s}
    try:
        binary = shutil.which("chromium") or shutil.which("chromium-browser")
        if binary is None:
            print("chromium is not installed: no rendering times", file=sys.stderr)
        else:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=binary, args=["--no-sandbox", "--disable-gpu"]
                )
                base = f"http://127.0.0.1:{port}/runs/"
                rendered(browser, base + small)  # warm the browser, not the big run
                # The first time anyone opens the big run: the server reads it whole.
                out["rendered_big_cold_s"] = rendered(browser, base + big)
                out["rendered_big_s"] = statistics.median(
                    rendered(browser, base + big) for _ in range(repeat)
                )
                out["rendered_small_s"] = statistics.median(
                    rendered(browser, base + small) for _ in range(repeat)
                )
                browser.close()
        # A second viewer process, so that the first request for the run finds nothing read.
        out["ttfb_run_api_cold_s"] = _cold_first_byte(home, f"/api/runs/{big}")
        for name, path in [
            ("ttfb_page_s", f"/runs/{big}"),
            ("ttfb_run_api_s", f"/api/runs/{big}"),
            ("ttfb_events_api_s", f"/api/runs/{big}/events?limit=200"),
            ("ttfb_small_run_api_s", f"/api/runs/{small}"),
        ]:
            first_byte(port, path)  # warm
            out[name] = statistics.median(first_byte(port, path) for _ in range(repeat))
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
    return out


def _viewer(home: Path) -> tuple[subprocess.Popen[str], int]:
    """`opensage ui --port 0` on `home`, in its own process (not sharing this one's GIL with
    the browser driver), and its port."""
    server = subprocess.Popen(
        [sys.executable, "-m", "opensage.cli", "ui", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OPENSAGE_HOME": str(home), "COLUMNS": "200"},
    )
    assert server.stderr is not None
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", server.stderr.readline())
    assert found, "the viewer did not start"
    port = int(found.group(1))
    _wait_for(port)
    return server, port


def _cold_first_byte(home: Path, path: str) -> float:
    server, port = _viewer(home)
    try:
        return first_byte(port, path)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return
        except OSError:
            assert time.monotonic() < deadline, "the viewer does not answer"
            time.sleep(0.05)


def loop_run(home: Path, work: Path) -> tuple[float, float]:
    """Wall and CPU seconds per step of one run of LOOP_STEPS steps."""
    from opensage import Agent, Tool
    from opensage.models import ScriptedModel
    from opensage.models.base import Message, ModelResponse, ToolCall

    replies = [
        ModelResponse(
            Message("assistant", tool_calls=(ToolCall(f"c{i}", "echo", f'{{"text": "{i}"}}'),))
        )
        for i in range(LOOP_STEPS - 1)
    ]
    replies.append(
        ModelResponse(
            Message("assistant", tool_calls=(ToolCall("end", "finish", '{"answer": "done"}'),))
        )
    )
    agent = Agent(
        "bench",
        model=ScriptedModel(replies),
        tools=[Tool(echo)],
        max_steps=LOOP_STEPS + 1,
        home=home,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    result = agent.run_sync("go", workdir=work)
    assert result.ok and result.steps == LOOP_STEPS, result
    return ((time.perf_counter() - wall) / LOOP_STEPS, (time.process_time() - cpu) / LOOP_STEPS)


def telemetry_overhead(repeat: int) -> dict[str, Any]:
    from opensage import telemetry

    collector = subprocess.Popen(
        [sys.executable, "-c", COLLECTOR], stdout=subprocess.PIPE, text=True
    )
    assert collector.stdout is not None
    port = int(collector.stdout.readline())
    folder = Path(tempfile.mkdtemp(prefix="opensage-bench-otel-"))
    off, on, work = folder / "off", folder / "on", folder / "work"
    for path in (off, on, work):
        path.mkdir()
    (on / "opensage.toml").write_text(f'[telemetry]\nendpoint = "http://127.0.0.1:{port}"\n')
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        loop_run(off, work)  # warm: imports, SQLite, the exporter process
        loop_run(on, work)
        walls: dict[str, list[float]] = {"off": [], "on": []}
        cpus: dict[str, list[float]] = {"off": [], "on": []}
        for _ in range(repeat):
            for name, home in (("off", off), ("on", on)):
                wall, cpu = loop_run(home, work)
                walls[name].append(wall)
                cpus[name].append(cpu)
        telemetry.shutdown(60)  # every span sent: the exporter process ends
        exporter_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
        spans = int(reply.split(b"\r\n\r\n", 1)[1])
    finally:
        collector.kill()
        shutil.rmtree(folder, ignore_errors=True)
    runs_on = repeat + 1
    med = {k: statistics.median(v) for k, v in walls.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpus.items()}
    # Each "on" run against the "off" run just before it: the machine's load drifts, pairs
    # see the same load.
    wall_ratio = statistics.median(a / b for a, b in zip(walls["on"], walls["off"], strict=True))
    cpu_ratio = statistics.median(a / b for a, b in zip(cpus["on"], cpus["off"], strict=True))
    return {
        "steps": LOOP_STEPS,
        "repeat": repeat,
        "wall_off_us": med["off"] * 1e6,
        "wall_on_us": med["on"] * 1e6,
        "cpu_off_us": med_cpu["off"] * 1e6,
        "cpu_on_us": med_cpu["on"] * 1e6,
        "wall_ratio": wall_ratio,
        "cpu_ratio": cpu_ratio,
        "spans_exported": spans,
        "spans_expected": runs_on * (2 * LOOP_STEPS + 2),
        "exporter_cpu_us_per_step": (
            exporter_cpu.ru_utime + exporter_cpu.ru_stime - before.ru_utime - before.ru_stime
        )
        / (runs_on * LOOP_STEPS)
        * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    ui = viewer(args.repeat)
    otel = telemetry_overhead(max(args.repeat, 15))

    print(f"viewer on a run of {ui['events']:,} events (recorded in {ui['recorded_s']:.1f} s)")
    print(f"{'measure':<44} | {'seconds':>8} | {'vs target 1 s':>13}")
    print("-" * 72)
    for key, label in [
        ("ttfb_page_s", "first byte: run page (HTML)"),
        ("ttfb_run_api_cold_s", "first byte: /api/runs/ID, first request"),
        ("ttfb_run_api_s", "first byte: /api/runs/ID (agent tree)"),
        ("ttfb_events_api_s", "first byte: a page of 200 events"),
        ("ttfb_small_run_api_s", "first byte: /api/runs/ID, a small run"),
        ("rendered_big_cold_s", "run page rendered, first opening"),
        ("rendered_big_s", "run page rendered in chromium"),
        ("rendered_small_s", "the same, a small run"),
    ]:
        if key in ui:
            print(f"{label:<44} | {ui[key]:>8.3f} | {ui[key] / 1.0:>12.2f}x")
    if "rendered_big_s" in ui:
        print(
            f"rendered: 10,000 events vs a small run: "
            f"{ui['rendered_big_s'] / ui['rendered_small_s']:.2f}x"
        )
    print(f"\nloop with telemetry, {otel['steps']} steps a run, median of {otel['repeat']}")
    print(f"{'':<14} | {'wall µs/step':>12} | {'CPU µs/step':>11}")
    print("-" * 44)
    print(f"{'off':<14} | {otel['wall_off_us']:>12.1f} | {otel['cpu_off_us']:>11.1f}")
    print(f"{'on':<14} | {otel['wall_on_us']:>12.1f} | {otel['cpu_on_us']:>11.1f}")
    print(
        f"{'on / off':<14} | {otel['wall_ratio']:>11.3f}x | {otel['cpu_ratio']:>10.3f}x"
        "   (median of the runs' ratios, each against the run before it)"
    )
    print(
        f"spans exported: {otel['spans_exported']} of {otel['spans_expected']}; the exporter "
        f"process used {otel['exporter_cpu_us_per_step']:.1f} µs of CPU per step, "
        "on another core"
    )
    print("targets: run page < 1 s at 10,000 events; telemetry < 10% per step")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ui.json").write_text(json.dumps({"viewer": ui, "telemetry": otel}, indent=2))


if __name__ == "__main__":
    main()
