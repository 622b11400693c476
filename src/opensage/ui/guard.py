"""What stands between the network and the viewer: security headers on every response, the
token when the viewer is reachable from other machines, and the Host check that keeps a web
page elsewhere from reading a loopback-only viewer through DNS rebinding.

A pure ASGI middleware (not Starlette's BaseHTTPMiddleware), so that server-sent events stream
through it unbuffered.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "opensage_ui_token"
REFUSED_PAGE = (
    '<!doctype html><meta charset="utf-8"><title>OpenSage viewer</title>'
    '<link rel="icon" href="/assets/icon.svg">'
    "<p>This viewer needs its token: open the address it printed when it started (it ends in "
    "?token=...).</p>"
)
# Scripts, styles, images and requests from the viewer itself only: no inline script or style,
# no plug-ins, no framing, no form posting elsewhere.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Guard:
    """Wraps the viewer's ASGI app. With a `token`, every request but the app's own assets must
    carry it: `Authorization: Bearer TOKEN`, the cookie set when a page was opened with
    `?token=TOKEN`, or that query parameter (a page opened so is redirected to itself without
    it, so the token leaves the address bar and the history). Without a token (bound to a
    loopback address), only requests naming a loopback host are served."""

    def __init__(self, app: ASGIApp, token: str | None):
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        path: str = scope.get("path", "")
        if self.token is None:
            host = headers.get("host", "")
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if not is_loopback(name):
                await _plain(
                    send_with_headers,
                    421,
                    "This viewer answers only to localhost, "
                    "127.0.0.1 or [::1]; start it with --host and a token to reach "
                    "it otherwise.",
                )
                return
            await self.app(scope, receive, send_with_headers)
            return
        if path.startswith("/assets/"):  # the app's own code and styles: nothing private
            await self.app(scope, receive, send_with_headers)
            return
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        from_query = next((v for k, v in query if k == "token"), None)
        given = (
            from_query
            or _bearer(headers.get("authorization", ""))
            or _cookie(headers.get("cookie", ""))
        )
        if not given or not hmac.compare_digest(given.encode(), self.token.encode()):
            if path.startswith("/api/"):
                await _plain(
                    send_with_headers,
                    401,
                    '{"error": "this viewer needs its token: '
                    'Authorization: Bearer TOKEN, or ?token=TOKEN"}',
                    b"application/json",
                )
            else:  # a page, with the viewer's icon: else the browser asks for /favicon.ico
                await _plain(send_with_headers, 401, REFUSED_PAGE, b"text/html; charset=utf-8")
            return
        if from_query is not None and scope.get("method") == "GET" and not path.startswith("/api/"):
            rest = urlencode([(k, v) for k, v in query if k != "token"])
            location = path + (f"?{rest}" if rest else "")
            cookie = f"{COOKIE}={self.token}; Path=/; HttpOnly; SameSite=Strict"
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [
                        (b"location", location.encode("latin-1")),
                        (b"set-cookie", cookie.encode()),
                        (b"content-length", b"0"),
                        (b"cache-control", b"no-store"),
                    ],
                }
            )
            await send_with_headers({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send_with_headers)


def _bearer(value: str) -> str | None:
    scheme, _, credentials = value.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" and credentials.strip() else None


def _cookie(value: str) -> str | None:
    try:
        jar: SimpleCookie = SimpleCookie(value)
    except Exception:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None


async def _plain(
    send: Send, status: int, text: str, kind: bytes = b"text/plain; charset=utf-8"
) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", kind),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
