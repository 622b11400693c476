"""The viewer's web app: pages, assets and the JSON API over a home's stores (read-only).

GET /                          runs, newest first, searchable
GET /runs/{run_id}             a run: its agent tree, ensembles, tools, memory, timeline
GET /tools, /memory            the tool library; the long-term memory
GET /assets/{name}             the app's own scripts and styles, and nothing else
GET /api/runs                  ?q=WORDS&limit=N&before=TS
GET /api/runs/{run_id}         the run with its agent tree
GET /api/runs/{run_id}/events  ?after=ID&before=ID&limit=N&agent=NAME&errors=1: a page of
                               events (model requests and budget charges left out); with
                               Accept: text/event-stream, the events as they are recorded
                               (server-sent events) until the run ends
GET /api/runs/{run_id}/events/{event_id}            one event whole (a full output too)
GET /api/runs/{run_id}/conversations/{conv}         ?start=&end=: messages of an agent
GET /api/tools, /api/tools/{name}, /api/agents, /api/agents/{name}
GET /api/memory                ?q=WORDS&kind=K; /api/memory/{id}: an entry, its
                               provenance, links and neighbourhood graph
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from importlib import resources
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from opensage.config import Config
from opensage.ui.db import Home, StoreError
from opensage.ui.guard import Guard
from opensage.ui.library import Agents, Memory, Tools
from opensage.ui.pages import page
from opensage.ui.runs import HIDDEN_KINDS, Runs

ASSET_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
POLL_S = 0.25  # how often a live stream looks for new events
PING_S = 15.0  # a comment line this often keeps proxies from closing a quiet stream


def load_assets() -> dict[str, tuple[bytes, str]]:
    """The files shipped in opensage/ui/static, by name, read once: the only files served."""
    folder = resources.files("opensage.ui") / "static"
    assets = {}
    for item in folder.iterdir():
        suffix = "." + item.name.rsplit(".", 1)[-1] if "." in item.name else ""
        if item.is_file() and suffix in ASSET_TYPES:
            assets[item.name] = (item.read_bytes(), ASSET_TYPES[suffix])
    return assets


def home_of(config: Config) -> Home:
    return Home(config.events_path, config.tools_path, config.agents_path, config.memory_location)


def json_response(value: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(value, default=str),
        status_code=status,
        media_type="application/json",
        headers={"cache-control": "no-store"},
    )


def create_app(config: Config, token: str | None = None) -> Guard:
    """The viewer over `config`'s home; with a `token`, every request must carry it."""
    home = home_of(config)
    runs, tools, agents, memory = Runs(home), Tools(home), Agents(home), Memory(home)
    assets = load_assets()

    def api(work: Callable[[Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                found = await run_in_threadpool(work, request)
            except StoreError as exc:
                return json_response({"error": str(exc)}, 500)
            except ValueError as exc:  # a parameter that is not a number
                return json_response({"error": f"bad parameter: {exc}"}, 400)
            if found is None:
                return json_response({"error": "not found"}, 404)
            return found if isinstance(found, Response) else json_response(found)

        return endpoint

    def number(request: Request, name: str, default: int) -> int:
        value = request.query_params.get(name)
        return default if value in (None, "") else int(value)

    # --- pages --------------------------------------------------------------------------------

    async def runs_page(request: Request) -> Response:
        return HTMLResponse(page("Runs", "runs"))

    async def run_page(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        found = await run_in_threadpool(runs.summary, run_id)
        if found is None:
            return HTMLResponse(page("No such run", "missing", {"what": f"run {run_id}"}), 404)
        return HTMLResponse(page(f"Run {run_id}", "run", {"run-id": run_id}))

    async def tools_page(request: Request) -> Response:
        return HTMLResponse(page("Tools", "tools"))

    async def memory_page(request: Request) -> Response:
        return HTMLResponse(page("Memory", "memory"))

    async def asset(request: Request) -> Response:
        found = assets.get(request.path_params["name"])
        if found is None:
            return Response("not found", 404, media_type="text/plain")
        body, kind = found
        return Response(body, media_type=kind, headers={"cache-control": "no-cache"})

    # --- the API ------------------------------------------------------------------------------

    def api_runs(request: Request) -> Any:
        before = request.query_params.get("before")
        return {
            "runs": runs.listing(
                request.query_params.get("q", ""),
                number(request, "limit", 50),
                float(before) if before else None,
            )
        }

    def api_run(request: Request) -> Any:
        return runs.detail(request.path_params["run_id"])

    def api_events(request: Request) -> Any:
        run_id = request.path_params["run_id"]
        if runs.summary(run_id) is None:
            return None
        before = request.query_params.get("before")
        return runs.page(
            run_id,
            number(request, "after", 0),
            number(request, "limit", 200),
            request.query_params.get("agent") or None,
            request.query_params.get("errors") in ("1", "true"),
            int(before) if before else None,
        )

    async def events(request: Request) -> Response:
        if "text/event-stream" not in request.headers.get("accept", ""):
            return await api(api_events)(request)
        run_id = request.path_params["run_id"]
        if await run_in_threadpool(runs.summary, run_id) is None:
            return json_response({"error": "not found"}, 404)
        after = request.headers.get("last-event-id") or request.query_params.get("after") or 0
        return StreamingResponse(
            _stream(runs, run_id, int(after)),
            media_type="text/event-stream",
            headers={"cache-control": "no-store", "x-accel-buffering": "no"},
        )

    def api_event(request: Request) -> Any:
        return runs.event(request.path_params["run_id"], int(request.path_params["event_id"]))

    def api_conversation(request: Request) -> Any:
        end = request.query_params.get("end")
        return runs.conversation(
            request.path_params["run_id"],
            int(request.path_params["conv"]),
            number(request, "start", 0),
            int(end) if end else None,
        )

    def api_tools(request: Request) -> Any:
        return {
            "tools": tools.listing(
                request.query_params.get("q", ""),
                request.query_params.get("removed") in ("1", "true"),
            )
        }

    def api_tool(request: Request) -> Any:
        return tools.get(request.path_params["name"])

    def api_agents(request: Request) -> Any:
        return {"agents": agents.listing()}

    def api_agent(request: Request) -> Any:
        return agents.get(request.path_params["name"])

    def api_memory(request: Request) -> Any:
        q = request.query_params
        return {
            "location": _shown_location(memory.location),
            "stats": memory.stats(),
            "entries": memory.search(
                q.get("q", ""),
                number(request, "k", 50),
                q.get("kind") or None,
                q.get("superseded") in ("1", "true"),
            ),
        }

    def api_entry(request: Request) -> Any:
        return memory.get(int(request.path_params["entry_id"]))

    routes = [
        Route("/", runs_page),
        Route("/runs/{run_id}", run_page),
        Route("/tools", tools_page),
        Route("/memory", memory_page),
        Route("/assets/{name}", asset),
        Route("/api/runs", api(api_runs)),
        Route("/api/runs/{run_id}", api(api_run)),
        Route("/api/runs/{run_id}/events", events),
        Route("/api/runs/{run_id}/events/{event_id:int}", api(api_event)),
        Route("/api/runs/{run_id}/conversations/{conv:int}", api(api_conversation)),
        Route("/api/tools", api(api_tools)),
        Route("/api/tools/{name}", api(api_tool)),
        Route("/api/agents", api(api_agents)),
        Route("/api/agents/{name}", api(api_agent)),
        Route("/api/memory", api(api_memory)),
        Route("/api/memory/{entry_id:int}", api(api_entry)),
    ]
    return Guard(Starlette(routes=routes), token)


def _shown_location(location: Any) -> str:
    """Where the memory is, without a password a database URL may hold."""
    text = str(location)
    if "://" in text and "@" in text:
        scheme, rest = text.split("://", 1)
        return f"{scheme}://{rest.rsplit('@', 1)[1]}"
    return text


async def _stream(runs: Runs, run_id: str, after: int) -> AsyncIterator[bytes]:
    """Server-sent events: each batch of new events (as timeline rows) as one `events` message
    whose id is the last event's, so a reconnecting browser resumes after it; then `end` once
    the run has finished or its process is gone."""
    last, pinged = after, time.monotonic()
    yield b"retry: 2000\n\n"
    while True:
        found = await run_in_threadpool(runs.events, run_id, last, 500)
        if found:
            last = found[-1].id
            shown = [e for e in found if e.kind not in HIDDEN_KINDS]
            rows = await run_in_threadpool(runs.rows, run_id, shown)
            payload = orjson.dumps({"events": rows, "last_event": last}, default=str)
            yield b"id: %d\nevent: events\ndata: %s\n\n" % (last, payload)
            pinged = time.monotonic()
            if len(found) == 500:
                continue  # more are waiting: no pause
        summary = await run_in_threadpool(runs.summary, run_id)
        if summary is None or summary.status != "running":
            if await run_in_threadpool(runs.last_event, run_id) <= last:
                status = summary.status if summary else "missing"
                yield b"event: end\ndata: %s\n\n" % orjson.dumps({"status": status})
                return
            continue
        if time.monotonic() - pinged > PING_S:
            yield b": ping\n\n"
            pinged = time.monotonic()
        await asyncio.sleep(POLL_S)
