"""The composition root: turns names (a model spec or profile, kit names, a run id) into the
objects a run is made of. Features plug in here, so that the core never imports them."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from opensage.config import Config
from opensage.core.tools import Tool
from opensage.kits import KitContext
from opensage.kits.files import files_kit
from opensage.kits.shell import shell_kit
from opensage.memory import memory_kit
from opensage.models import model_from_spec
from opensage.models.base import ConfigError, Model
from opensage.sandbox import BACKENDS, Sandbox, open_sandbox
from opensage.synthesis import synthesis_kit
from opensage.topology import topology_kit

KitFactory = Callable[[KitContext], list[Tool]]
KITS: dict[str, KitFactory] = {"files": files_kit, "shell": shell_kit, "topology": topology_kit,
                               "synthesis": synthesis_kit, "memory": memory_kit}
WORKDIR_KITS = ("files", "shell")  # the kits whose tools act on the work dir


def new_run_id() -> str:
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def resolve_model(spec: str | None, config: Config, *, base_url: str | None = None) -> Model:
    """A profile name or a model spec (or None: the default) -> a model."""
    spec = spec or config.default_model_spec()
    profile = config.profiles.get(spec)
    api_key = None
    timeout_s = None
    if profile is not None:
        spec = profile.spec
        base_url = base_url or profile.base_url
        timeout_s = profile.timeout_s
        if profile.api_key_env:
            api_key = os.environ.get(profile.api_key_env)
            if not api_key:
                raise ConfigError(f"model profile needs ${profile.api_key_env}, which is not set")
    return model_from_spec(spec, base_url=base_url, api_key=api_key, prices=config.prices,
                           timeout_s=timeout_s, log_dir=config.home / "logs")


def run_sandbox(config: Config, backend: str | Sandbox | None = None) -> Sandbox:
    """The sandbox a run's commands go through: the one given, else the configured backend,
    which hides OpenSage's home (every run's events, the trusted configuration) from them."""
    if backend is not None and not isinstance(backend, str):
        return backend
    return open_sandbox(backend or config.sandbox_backend, image=config.sandbox_image,
                        hidden=(config.home,))


def build_kits(names: list[str], workdir: Path, config: Config,
               sandbox: str | Sandbox | None = None,
               models: Mapping[str, str | Model] | None = None,
               given: Sequence[Tool] = (), run_id: str = "",
               model: Model | None = None) -> tuple[list[Tool], KitContext]:
    """The tools of the named kits for one run (beside the `given` ones), and the context they
    share. Kits are built in order, each seeing the names of the tools before it."""
    unknown = [n for n in names if n not in KITS]
    if unknown:
        raise ConfigError(f"unknown kit {unknown[0]!r}; known kits: {', '.join(sorted(KITS))}")
    if isinstance(sandbox, str) and sandbox not in (*BACKENDS, "auto"):  # opened when needed
        raise ConfigError(f"unknown sandbox backend {sandbox!r}; use one of "
                          f"{', '.join(BACKENDS)}, or auto (the best isolating one available)")
    named = dict(models or {})

    def model_for(spec: str) -> Model:
        given = named.get(spec)
        return given if given is not None and not isinstance(given, str) else resolve_model(
            given or spec, config)

    def workdir_kits(other: Path) -> list[Tool]:
        # The kits bound to a work dir, built again for another one (an ensemble member's).
        copy = replace(ctx, workdir=other, cleanups=[])
        return [t for n in names if n in WORKDIR_KITS for t in KITS[n](copy)]

    ctx = KitContext(
        workdir=workdir, open_sandbox=lambda: run_sandbox(config, sandbox), run_id=run_id,
        model=model,
        sandbox_limits=config.sandbox_limits, home=config.home, resolve_model=model_for,
        kit_tools_for=workdir_kits,
        settings={"topology": config.topology,
                  "model_names": [*named, *config.profiles],
                  "tool_names": [t.name for t in given],
                  "memory": config.memory_location,
                  "memory_curate": config.memory_curate,
                  "memory_embedder": config.memory_embedder,
                  # With synthesis, tools appear during the run: their names cannot be listed.
                  "dynamic_tools": "synthesis" in names})
    tools: list[Tool] = []
    try:
        for name in names:
            tools.extend(KITS[name](ctx))
            ctx.settings["tool_names"] = [t.name for t in [*given, *tools]]
    except ValueError as exc:  # a kit's settings in the config are wrong
        raise ConfigError(str(exc)) from exc
    return tools, ctx
