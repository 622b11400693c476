"""The viewer in a real headless browser (Debian's chromium, driven by Playwright pointed at its
binary): the recorded team run's page shows every agent and the ensemble's choice, a tool call
opens to its full output, a <script> planted in model-written text never runs, and a run started
while the page is open appears and grows on it."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opensage import Agent
from opensage.models import FunctionModel

from .conftest import serve
from .scenario import AGENTS, MIDDLE, PLANT, TASK, configure

pytestmark = pytest.mark.slow
DOCS = Path(__file__).parents[2] / "docs"


@pytest.fixture(scope="module")
def browser(server: Any) -> Iterator[Any]:
    """Started after the recorded run and its server: Playwright's sync API keeps an event
    loop running in this thread, where asyncio.run (an agent's run_sync) cannot start one."""
    from playwright.sync_api import sync_playwright

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.fail("chromium is not installed: scripts/setup.sh installs Debian's (apt)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=binary, args=["--no-sandbox", "--disable-gpu"]
        )
        yield browser
        browser.close()


def wait_until(page: Any, expression: str, timeout_s: float = 15) -> None:
    """Poll a JavaScript expression until it is true. (Playwright's wait_for_function evaluates
    its text inside the page, which the viewer's CSP forbids: no eval.)"""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.1)


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.problems = problems
    yield page
    context.close()


def test_the_run_page_shows_the_team_and_opens_a_tool_call_whole(page, server, recorded, tmp_path):
    base = f"http://127.0.0.1:{server.served.port}"
    page.goto(f"{base}/runs/{recorded.run_id}")
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    title = page.title()
    assert title == f"Run {recorded.run_id} · OpenSage"
    # Every agent is in the tree, and the ensemble's chosen member is marked.
    shown = page.eval_on_selector_all(
        "#tree .node[data-agent]", "nodes => nodes.map(n => n.dataset.agent)"
    )
    assert sorted(shown) == sorted(AGENTS)
    chosen = page.locator("#tree .node.selected")
    assert chosen.count() == 1
    name = chosen.get_attribute("data-agent")
    assert name.startswith("writer[") and "✓ selected" in chosen.inner_text()
    assert "verify passed (exit 0)" in chosen.inner_text()
    ensemble = page.locator("#tree .node.ensemble").inner_text()
    assert "ensemble of 3 × writer" in ensemble and f"selected member {name[7]}" in ensemble
    assert page.locator("#tree .node[data-agent='helper'] .tag.bg").count() == 1
    assert page.locator("#tree .node[data-agent='researcher'] .tag.retired").count() == 1
    # The task with its <script> is shown as text.
    assert page.locator("#task").inner_text() == TASK
    # Open the call that read big.txt: its full output, the part the model never saw too.
    row = page.locator(".row.kind-tool_call", has_text='"big.txt"').filter(has_text="read_file")
    row.click()
    output = page.locator(".row.kind-tool_call .detail pre.output")
    output.wait_for(timeout=10_000)
    text = output.inner_text()
    assert MIDDLE in text and PLANT in text and len(text) > 24_000
    assert "cut to" in page.locator(".row.kind-tool_call .detail .note").inner_text()
    # The error is highlighted, and the side panels list what the run made.
    assert page.locator(".row.error").count() >= 1
    assert page.locator("#tools a", has_text="shout").count() == 1
    assert page.locator("#memory a", has_text="#1").count() >= 1
    # Nothing a model wrote ran: no global set, no title changed, no element injected.
    assert page.evaluate("window.__pwned") is None
    assert page.title() == title
    assert page.locator("#app img, #app script").count() == 0
    page.evaluate("window.scrollTo(0, 0)")  # the picture starts at the run's header
    page.screenshot(path=str(tmp_path / "run.png"))
    assert (tmp_path / "run.png").stat().st_size > 10_000
    if (DOCS / "viewer.png").exists():  # the README's picture, taken from this same page
        assert (DOCS / "viewer.png").stat().st_size < 400_000
    assert page.problems == []


def test_the_tools_and_memory_pages(page, server, recorded):
    base = f"http://127.0.0.1:{server.served.port}"
    page.goto(f"{base}/tools")
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    assert "def main(text: str) -> str:" in page.locator("#tool pre.code").inner_text()
    assert recorded.run_id in page.locator("#tool").inner_text()
    page.goto(f"{base}/memory?id=1")
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    assert "onerror" in page.locator("#entry pre.entry-text").inner_text()  # shown as text
    assert recorded.run_id in page.locator("#provenance").inner_text()
    assert page.locator("#graph .gnode").count() == 3
    page.locator("#graph .gnode[data-entry='4']").click()
    wait_until(page, "location.search === '?id=4'")
    assert "answer.txt" in page.locator("#entry pre.entry-text").inner_text()
    assert page.evaluate("window.__pwned") is None
    assert page.problems == []


def test_a_run_started_while_the_page_is_open_appears_and_grows(page, tmp_path):
    home = tmp_path / "live-home"
    configure(home)
    server = serve(home)
    opened = threading.Event()  # the test has the run's page open: the run may end
    last: list[int] = []

    def reply(messages: Any, tools: Any) -> Any:
        """A step every 0.3 s until the page is open, then eight more and the answer."""
        done = sum(m.role == "assistant" for m in messages)
        if opened.is_set() and not last:
            last.append(done + 8)
        if (last and done >= last[0]) or done >= 300:
            return {
                "delay_s": 0.3,
                "tool_calls": [{"name": "finish", "arguments": {"answer": "all done"}}],
            }
        return {
            "delay_s": 0.3,
            "tool_calls": [
                {"name": "write_file", "arguments": {"path": f"f{done}.txt", "content": "x"}}
            ],
        }

    agent = Agent("root", "LIVE", model=FunctionModel(reply), kits=["files"], home=home)
    work = tmp_path / "work"
    work.mkdir()
    thread = threading.Thread(target=lambda: agent.run_sync("a slow live task", workdir=work))
    try:
        base = f"http://127.0.0.1:{server.served.port}"
        page.goto(base + "/")
        page.wait_for_selector("body[data-ready='1']", timeout=15_000)
        page.evaluate("window.__still = 'the same page'")
        assert page.locator("tr.run").count() == 0
        thread.start()
        # It appears in the list, running, without a reload, and its steps go up.
        page.wait_for_selector("tr.run.running", timeout=15_000)
        first = int(page.locator("tr.run td.num").first.inner_text())
        wait_until(page, f"Number(document.querySelector('tr.run td.num').textContent) > {first}")
        assert page.evaluate("window.__still") == "the same page"
        # Its page grows as events arrive, then shows it finished.
        page.locator("tr.run td.task a").click()
        page.wait_for_selector("body[data-ready='1']", timeout=15_000)
        page.evaluate("window.__still = 'the run page'")
        assert page.locator("#live").is_visible()
        rows = page.locator(".row").count()
        opened.set()
        wait_until(page, f"document.querySelectorAll('.row').length > {rows + 4}")
        page.wait_for_selector("#summary .badge.ok", timeout=30_000)
        wait_until(page, "document.querySelectorAll('.row.kind-run_finished').length === 1")
        assert page.evaluate("window.__still") == "the run page"
        assert page.locator("#summary .answer pre").text_content() == "all done"
        assert not page.locator("#live").is_visible()
        (node,) = page.locator("#tree .node[data-agent='root']").all()
        assert f"{last[0] + 1} steps" in node.inner_text()
        assert page.problems == []
    finally:
        opened.set()
        thread.join(timeout=120)
        server.stop()


def test_opened_with_its_token_the_viewer_works_from_its_cookie(page, recorded):
    server = serve(recorded.home, host="0.0.0.0")
    try:
        base = f"http://127.0.0.1:{server.served.port}"
        # The browser notes that 401 on its console, sometimes after goto returns: wait for the
        # note before forgetting it. (The refused page names the viewer's icon, which needs no
        # token: else the browser's own request for /favicon.ico was refused too, later.)
        with page.expect_console_message(lambda m: "401" in m.text, timeout=15_000):
            page.goto(f"{base}/runs/{recorded.run_id}")
        page.wait_for_selector("link[rel=icon]", state="attached")
        assert "needs its token" in page.content()
        time.sleep(0.5)  # time for a second refusal to be noted, if there were one
        assert len(page.problems) == 1, page.problems
        page.problems.clear()
        page.goto(f"{base}/runs/{recorded.run_id}?token={server.served.token}")
        page.wait_for_selector("body[data-ready='1']", timeout=15_000)
        assert page.url == f"{base}/runs/{recorded.run_id}"  # the token left the address
        assert page.locator("#tree .node[data-agent]").count() == len(AGENTS)
        page.goto(f"{base}/memory?id=1")  # the cookie opens the other pages
        page.wait_for_selector("body[data-ready='1']", timeout=15_000)
        assert page.locator("#graph .gnode").count() == 3
        assert page.problems == []
    finally:
        server.stop()
