"""The composition root: turns names (a model spec or profile, kit names, a run id) into the
objects a run is made of. Features plug in here, so that the core never imports them."""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any

from opensage.config import Config
from opensage.core.context import RunContext
from opensage.core.tools import Tool
from opensage.errors import ConfigError
from opensage.kits import Kit, make_kit
from opensage.kits.base import merge_tools
from opensage.models import model_from_spec
from opensage.models.base import Model
from opensage.sandbox import BACKENDS, Sandbox, open_sandbox

log = logging.getLogger("opensage")


def new_run_id() -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def resolve_model(spec: str | None, config: Config, *, base_url: str | None = None) -> Model:
    """A profile name or a model spec (or None: the default) -> a model."""
    spec = spec or config.default_model_spec()
    profile = config.profiles.get(spec)
    api_key = None
    timeout_s = None
    text_tool_calls = False
    if profile is not None:
        spec = profile.spec
        base_url = base_url or profile.base_url
        timeout_s = profile.timeout_s
        text_tool_calls = profile.text_tool_calls
        if profile.api_key_env:
            api_key = os.environ.get(profile.api_key_env)
            if not api_key:
                raise ConfigError(f"model profile needs ${profile.api_key_env}, which is not set")
    return model_from_spec(
        spec,
        base_url=base_url,
        api_key=api_key,
        prices=config.prices,
        timeout_s=timeout_s,
        log_dir=config.logs_path,
        text_tool_calls=text_tool_calls,
    )


def named_models(config: Config, models: Mapping[str, str | Model]) -> Callable[[str], Model]:
    """A resolver for the models sub-agents ask for: a name given in Python (`models`), a
    profile, or a spec. Each call resolves anew: the caller keeps and closes what it gets."""

    def resolve(spec: str) -> Model:
        given = models.get(spec)
        if given is not None and not isinstance(given, str):
            return given
        return resolve_model(given or spec, config)

    return resolve


def run_sandbox(config: Config, backend: str | Sandbox | None = None) -> Sandbox:
    """The sandbox a run's commands go through: the one given, else the configured backend,
    which hides OpenSage's home (every run's events, the trusted configuration) from them."""
    if backend is not None and not isinstance(backend, str):
        return backend
    return open_sandbox(
        backend or config.sandbox_backend, image=config.sandbox_image, hidden=(config.home,)
    )


def check_sandbox(backend: str | Sandbox | None) -> None:
    """Refuse an unknown backend name before the run starts (the sandbox opens when needed)."""
    if isinstance(backend, str) and backend not in (*BACKENDS, "auto"):
        raise ConfigError(
            f"unknown sandbox backend {backend!r}; use one of "
            f"{', '.join(BACKENDS)}, or auto (the best isolating one available)"
        )


def resolve_kits(kits: Sequence[str | Kit]) -> tuple[Kit, ...]:
    """The kits of a run, from names (through the registry) and Kit objects, in order."""
    made = tuple(make_kit(k) if isinstance(k, str) else k for k in kits)
    for kit in made:
        if not isinstance(kit, Kit) or not kit.name:
            raise ConfigError(
                f"{kit!r} is not a kit: give a kit's name, or an object of a Kit "
                "subclass that sets `name`"
            )
    names = [k.name for k in made]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"the kit {twice[0]!r} is given twice; give each kit once")
    return made


async def open_kits(ctx: RunContext, given: Sequence[Tool], stack: AsyncExitStack) -> list[Tool]:
    """Set the run's kits up, in order, and return their tools; each kit's session ends when
    `stack` is closed (a failing end is logged, and the others still end). Each kit sees the
    names of the tools before it (those `given`, then the earlier kits'), unless a kit of the
    run adds tools as it goes, when no list could be complete. Where two kits have a tool of
    the same name, the superseding kit's is kept (`merge_tools`)."""
    named = not any(kit.adds_tools for kit in ctx.kits)
    opened: list[tuple[Kit, list[Tool]]] = []
    for kit in ctx.kits:
        before = [*given, *(t for _, tools in opened for t in tools)]
        session = kit.session(
            replace(ctx, tool_names=tuple(t.name for t in before) if named else None)
        )
        opened.append((kit, list(await session.__aenter__())))
        stack.push_async_callback(_logged, session.__aexit__, None, None, None)
    return merge_tools(opened)


async def _logged(end: Callable[..., Awaitable[Any]], *args: Any) -> None:
    try:
        await end(*args)
    except Exception:
        log.exception("a kit failed at the end of the run")
