"""The trace viewer: `opensage ui`, a local web app over the event log, the agent and tool
libraries and the memory (read-only), and the agent tree that the terminal shows too.

`opensage.ui.tree` needs nothing more than OpenSage; the web app (`opensage.ui.app`,
`opensage.ui.server`) needs the `ui` extra (Starlette and uvicorn).
"""
