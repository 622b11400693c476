"""Serving the viewer with uvicorn on a socket this module binds (so port 0 gives a free port,
and the address in use is known before the first request)."""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import threading
from dataclasses import dataclass

import uvicorn

from opensage.config import Config
from opensage.ui.app import create_app
from opensage.ui.guard import is_loopback


@dataclass
class Served:
    host: str
    port: int
    token: str | None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        base = f"http://{host}:{self.port}/"
        return base + (f"?token={self.token}" if self.token else "")


def plan(host: str, token: str | None) -> str | None:
    """The token the viewer will require: the one given; else, bound to a non-loopback
    address, a new random one (anyone who can reach the port could read every run)."""
    if token:
        return token
    return None if is_loopback(host) else secrets.token_urlsafe(24)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class _QuietShutdown(logging.Filter):
    """A live page's event stream is still open when the viewer stops: closing it is normal."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "graceful shutdown exceeded" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietShutdown())


class Server:
    """The viewer on a bound socket; `run()` blocks, `start()` runs it in a thread (tests,
    benchmarks) and `stop()` ends it."""

    def __init__(
        self, config: Config, host: str = "127.0.0.1", port: int = 0, token: str | None = None
    ):
        self.sock = bind(host, port)
        self.served = Served(host, self.sock.getsockname()[1], plan(host, token))
        app = create_app(config, self.served.token)
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=1,
                ws="none",
            )
        )
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        self.server.run(sockets=[self.sock])

    def start(self) -> Served:
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self.server.serve(sockets=[self.sock])),
            daemon=True,
            name="opensage-ui",
        )
        self._thread.start()
        while not self.server.started and self._thread.is_alive():
            threading.Event().wait(0.01)
        return self.served

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sock.close()
