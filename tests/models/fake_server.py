"""A real HTTP server on loopback that answers from a queue of canned replies and records what
it was sent, so adapters are tested through their SDK's actual HTTP stack."""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class RawBody:
    text: str


@dataclass
class FakeServer:
    replies: deque = field(default_factory=deque)  # (status, body, headers)
    requests: list[Recorded] = field(default_factory=list)

    def reply(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.replies.append((status, body, headers or {}))

    def reply_raw(self, text: str, content_type: str = "application/json") -> None:
        """Answer 200 with `text` as it is, not as JSON: a broken server or a proxy's page."""
        self.replies.append((200, RawBody(text), {"content-type": content_type}))

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"null")
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append(Recorded("POST", self.path, headers, body))
                status, reply, extra = (
                    fake.replies.popleft()
                    if fake.replies
                    else (500, {"error": "no reply queued"}, {})
                )
                raw = isinstance(reply, RawBody)
                data = (reply.text if raw else json.dumps(reply)).encode()
                self.send_response(status)
                if "content-type" not in extra:
                    self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
