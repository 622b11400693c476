"""The viewer's test fixtures: one recorded team run per module, served by a real server (uvicorn
on a free loopback port) and spoken to over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from opensage.config import load_config
from opensage.ui.server import Server

from .scenario import Recorded, record


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


class Client:
    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def get(self, path: str, headers: dict[str, str] | None = None, timeout: float = 10) -> Reply:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=timeout) as response:
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as exc:
            return Reply(exc.code, exc.headers, exc.read())


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the test looks at the redirect itself


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    folder = tmp_path_factory.mktemp("ui")
    return record(folder / "home", folder / "work")


def serve(home: Path, host: str = "127.0.0.1", token: str | None = None) -> Server:
    server = Server(load_config(home=home), host=host, port=0, token=token)
    server.start()
    return server


@pytest.fixture(scope="module")
def server(recorded: Recorded) -> Iterator[Server]:
    running = serve(recorded.home)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(server: Server) -> Client:
    return Client(f"http://127.0.0.1:{server.served.port}")
