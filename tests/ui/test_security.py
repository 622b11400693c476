"""The viewer's safety: security headers everywhere, no inline script, no file outside its own
assets, the token when it is reachable from other machines, the Host check on loopback, and
stores opened read-only."""

from __future__ import annotations

import hashlib
import http.client
import re
import sqlite3
import subprocess
import sys
import time

import pytest

from opensage.config import load_config
from opensage.ui.app import create_app, home_of
from opensage.ui.guard import CSP
from opensage.ui.server import plan

from .conftest import Client, serve

PATHS = [
    "/",
    "/tools",
    "/memory",
    "/api/runs",
    "/api/tools",
    "/api/memory",
    "/assets/app.css",
    "/api/runs/nope",
    "/nothing",
]


def raw(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """A request sent as written: no client normalises `..` or percent-escapes away."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
    for key, value in {"Host": f"127.0.0.1:{port}", **(headers or {})}.items():
        connection.putheader(key, value)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def test_every_response_carries_a_strict_content_security_policy(client, recorded):
    for path in [*PATHS, f"/runs/{recorded.run_id}", f"/api/runs/{recorded.run_id}"]:
        reply = client.get(path)
        assert reply.headers["content-security-policy"] == CSP, path
        assert reply.headers["x-content-type-options"] == "nosniff", path
        assert reply.headers["x-frame-options"] == "DENY", path
    assert "default-src 'self'" in CSP and "script-src 'self';" in CSP
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP
    assert "frame-ancestors 'none'" in CSP and "object-src 'none'" in CSP


def test_pages_have_no_inline_script_and_no_model_text(client, recorded):
    for path in ["/", f"/runs/{recorded.run_id}", "/tools", "/memory"]:
        html = client.get(path).text
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
        assert scripts and all('src="/assets/' in attrs and not body for attrs, body in scripts)
        assert (
            " on"
            not in re.sub(r"<noscript>.*?</noscript>", "", html).split("<body")[1].split(">")[0]
        )  # no event-handler attribute on the body
        assert "pwned" not in html  # what models wrote reaches the page only through textContent
    assert f'data-run-id="{recorded.run_id}"' in client.get(f"/runs/{recorded.run_id}").text


def test_assets_are_served_with_their_types_and_nothing_else(server, client):
    assert client.get("/assets/run.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/assets/app.css").headers["content-type"].startswith("text/css")
    port = server.served.port
    secret = load_config().home.parent / "secret.txt"
    attempts = [
        "/assets/../../../../etc/passwd",
        "/assets/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/assets/%2e%2e/%2e%2e/app.py",
        "/assets/..%2fapp.py",
        "/assets/app.py",
        "/assets/__init__.py",
        "/assets/%2fetc%2fpasswd",
        "/assets//etc/passwd",
        "/assets/static/app.css",
        "/assets/.%2e/db.py",
        "/assets/app.css%00.py",
        f"/assets/{secret}",
        "/assets/..\\..\\app.py",
        "/assets/",
    ]
    for path in attempts:
        status, body = raw(port, path)
        assert status == 404, (path, status)
        assert b"root:" not in body and b"import" not in body, path


def test_a_loopback_viewer_answers_only_to_loopback_host_names(server):
    port = server.served.port
    assert raw(port, "/api/runs")[0] == 200
    assert raw(port, "/api/runs", {"Host": f"localhost:{port}"})[0] == 200
    assert raw(port, "/api/runs", {"Host": f"[::1]:{port}"})[0] == 200
    status, body = raw(port, "/api/runs", {"Host": "attacker.example"})
    assert status == 421 and b"only to localhost" in body  # a DNS-rebinding page gets nothing
    assert raw(port, "/", {"Host": f"127.0.0.1.attacker.example:{port}"})[0] == 421


def test_a_token_is_made_for_any_other_address_and_given_ones_are_kept():
    assert plan("127.0.0.1", None) is None and plan("::1", None) is None
    assert plan("localhost", None) is None
    made = plan("0.0.0.0", None)
    assert made and len(made) >= 32 and made != plan("0.0.0.0", None)
    assert plan("0.0.0.0", "mine") == "mine" and plan("127.0.0.1", "mine") == "mine"


def test_bound_to_every_address_it_requires_its_token(recorded):
    server = serve(recorded.home, host="0.0.0.0")
    try:
        token = server.served.token
        assert token and f"?token={token}" in server.served.url
        client = Client(f"http://127.0.0.1:{server.served.port}")
        for path in (
            "/",
            f"/runs/{recorded.run_id}",
            "/api/runs",
            f"/api/runs/{recorded.run_id}/events",
        ):
            reply = client.get(path)
            assert reply.status == 401, path
            assert recorded.run_id.encode() not in reply.body
            assert reply.headers["content-security-policy"] == CSP
        assert client.get("/api/runs").json()["error"].startswith("this viewer needs its token")
        assert client.get("/api/runs", {"authorization": "Bearer wrong"}).status == 401
        assert client.get("/api/runs?token=" + token[:-1]).status == 401
        assert client.get("/api/runs", {"authorization": f"Bearer {token}"}).status == 200
        assert client.get(f"/api/runs?token={token}").status == 200
        assert client.get("/assets/app.css").status == 200  # no secret in the app's code
        # Opening the printed address sets a cookie and drops the token from the address.
        opened = client.get(f"/runs/{recorded.run_id}?token={token}&x=1")
        assert opened.status == 303
        assert opened.headers["location"] == f"/runs/{recorded.run_id}?x=1"
        cookie = opened.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        jar = cookie.split(";")[0]
        assert client.get(f"/runs/{recorded.run_id}", {"cookie": jar}).status == 200
        assert client.get("/api/runs", {"cookie": jar}).json()["runs"]
        assert client.get("/api/runs", {"cookie": "opensage_ui_token=nope"}).status == 401
        # Any Host is served then: the token is the check.
        assert (
            raw(server.served.port, f"/api/runs?token={token}", {"Host": "viewer.example"})[0]
            == 200
        )
    finally:
        server.stop()


def test_a_token_given_on_loopback_is_required_too(recorded):
    server = serve(recorded.home, token="s3cret-token")
    try:
        client = Client(f"http://127.0.0.1:{server.served.port}")
        assert client.get("/api/runs").status == 401
        assert client.get("/api/runs", {"authorization": "Bearer s3cret-token"}).status == 200
    finally:
        server.stop()


@pytest.mark.slow
def test_the_command_prints_where_it_serves_and_its_token(recorded, tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "opensage.cli", "ui", "--host", "0.0.0.0", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env={"OPENSAGE_HOME": str(recorded.home), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    try:
        assert process.stderr is not None
        first = process.stderr.readline()
        second = process.stderr.readline()
        found = re.search(r"http://0\.0\.0\.0:(\d+)/\?token=([\w-]+)", first)
        assert found, first
        assert "every request needs the token" in second
        port, token = int(found.group(1)), found.group(2)
        client = Client(f"http://127.0.0.1:{port}")
        deadline = time.monotonic() + 20
        while True:
            try:
                reply = client.get("/api/runs", {"authorization": f"Bearer {token}"})
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert reply.status == 200 and reply.json()["runs"][0]["run_id"] == recorded.run_id
        assert client.get("/api/runs").status == 401
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_stores_are_opened_read_only(recorded, client):
    files = [recorded.home / name for name in ("events.db", "tools.db", "agents.db", "memory.db")]

    def digest() -> list[str]:
        return [
            hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else ""
            for f in files
            for p in (f, f.with_name(f.name + "-wal"))
        ]

    before = digest()
    for path in [
        "/api/runs",
        f"/api/runs/{recorded.run_id}",
        "/api/tools",
        "/api/tools/shout",
        "/api/agents",
        "/api/memory?q=greeting",
        "/api/memory/1",
        f"/api/runs/{recorded.run_id}/events?limit=1000",
    ]:
        assert client.get(path).status == 200
    assert digest() == before
    home = home_of(load_config(home=recorded.home))
    for store in (home.events, home.tools, home.agents, home.memory):
        assert store is not None
        db = store.connection()
        assert db is not None
        with pytest.raises(sqlite3.OperationalError, match="readonly|read-only|query_only"):
            db.execute("CREATE TABLE planted (x)")
    assert create_app(load_config(home=recorded.home)) is not None
