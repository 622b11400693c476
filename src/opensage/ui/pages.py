"""The viewer's HTML: one small shell per page, which its script fills from the API.

Every value put into the HTML goes through html.escape (quotes included); what runs and models
wrote never reaches the server's HTML at all: the scripts set it as text (textContent), never
as markup. No inline script or style, so the Content-Security-Policy can forbid them.
"""

from __future__ import annotations

from html import escape

from opensage.version import __version__

SCRIPTS = {"runs": "runs.js", "run": "run.js", "tools": "tools.js", "memory": "memory.js"}
NAV = (
    ("/", "Runs", ("runs", "run")),
    ("/tools", "Tools", ("tools",)),
    ("/memory", "Memory", ("memory",)),
)


def page(title: str, name: str, data: dict[str, str] | None = None) -> str:
    attributes = "".join(
        f' data-{escape(k)}="{escape(v, quote=True)}"' for k, v in (data or {}).items()
    )
    links = "".join(
        f'<a href="{href}"{" class=current" if name in pages else ""}>{label}</a>'
        for href, label, pages in NAV
    )
    script = SCRIPTS.get(name)
    scripts = '<script src="/assets/common.js"></script>' + (
        f'<script src="/assets/{script}"></script>' if script else ""
    )
    body = (
        '<main id="app"><p class="muted">Loading…</p></main>'
        if script
        else (
            '<main id="app"><h1>Not found</h1><p>There is no '
            f'{escape((data or {}).get("what", ""))} here. <a href="/">See the runs</a>.</p></main>'
        )
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · OpenSage</title>"
        f'<link rel="icon" href="/assets/icon.svg">'
        f'<link rel="stylesheet" href="/assets/app.css"></head>'
        f'<body data-page="{escape(name)}"{attributes}>'
        f'<header><a class="brand" href="/">OpenSage</a><nav>{links}</nav>'
        f'<span class="version">v{escape(__version__)}</span></header>'
        f"{body}<noscript>This viewer needs JavaScript (its own scripts only).</noscript>"
        f"{scripts}</body></html>"
    )
