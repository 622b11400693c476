"""Sandboxes: where model-written code and shell commands run, never in the host process.

    sandbox = open_sandbox()               # bwrap, else a container engine, else an error
    result = await sandbox.exec("pytest -q", workdir=repo, timeout_s=300)

Backends: `bwrap` (the default on Linux), `container` (podman or docker), `local` (no isolation;
only when asked for by name). This package imports nothing from the rest of OpenSage.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from opensage.sandbox.base import (
    BackgroundProcess,
    Bind,
    Command,
    ExecResult,
    Sandbox,
    SandboxLimits,
    SandboxUnavailable,
)
from opensage.sandbox.session import SandboxSession

__all__ = [
    "BACKENDS",
    "BackgroundProcess",
    "Bind",
    "Command",
    "ExecResult",
    "Sandbox",
    "SandboxLimits",
    "SandboxSession",
    "SandboxUnavailable",
    "open_sandbox",
]

BACKENDS = ("bwrap", "container", "local")


def open_sandbox(
    backend: str | None = None,
    *,
    image: str | None = None,
    hidden: Iterable[Path] = (),
    binds: Iterable[Bind] = (),
) -> Sandbox:
    """The named backend, or the best one available. Never falls back to `local` silently.
    `hidden` paths (OpenSage's home) are neither visible nor writable inside, even within the
    work dir; `local` hides nothing, as it isolates nothing. `binds` show host paths at other
    paths inside (a task's /app, /tests, /logs); `local` cannot, and refuses them."""
    hidden, binds = tuple(hidden), tuple(binds)
    if backend == "bwrap":
        from opensage.sandbox.bwrap import BwrapSandbox

        return BwrapSandbox(hidden=hidden, binds=binds)
    if backend == "container":
        from opensage.sandbox.container import ContainerSandbox

        return ContainerSandbox(image=image, hidden=hidden, binds=binds)
    if backend == "local":
        from opensage.sandbox.local import LocalSandbox

        return LocalSandbox(binds=binds)
    if backend not in (None, "auto"):
        raise SandboxUnavailable(
            f"unknown sandbox backend {backend!r}; use one of {', '.join(BACKENDS)}"
        )
    reasons = []
    for name in ("bwrap", "container"):
        try:
            return open_sandbox(name, image=image, hidden=hidden, binds=binds)
        except SandboxUnavailable as exc:
            reasons.append(f"{name}: {exc}")
    raise SandboxUnavailable(
        "no isolating sandbox is available here. "
        + "; ".join(reasons)
        + ". Install one, or choose the local backend explicitly if you trust the code."
    )
