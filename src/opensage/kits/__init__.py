"""Kits: named toolsets an agent can be given (`Agent(kits=["files", MyKit()])`), and the one
registry that maps their names to factories. Runs record kits by name, so a resumed run gets
them back from here.

The built-in kits are imported when first asked for, so that naming one does not load the
others. Third-party packages add kits with `register_kit`, or without any code running, through
the entry-point group `opensage.kits`:

    [project.entry-points."opensage.kits"]
    notes = "my_package.kits:NotesKit"      # a Kit class, or a function returning a Kit

Entry points are looked up when a name is not known otherwise.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points

from opensage.errors import ConfigError
from opensage.kits.base import Kit

__all__ = ["ENTRY_POINTS", "Kit", "KitFactory", "kit_names", "make_kit", "register_kit"]

KitFactory = Callable[[], Kit]
ENTRY_POINTS = "opensage.kits"
BUILT_IN = {
    "files": "opensage.kits.files:FilesKit",
    "shell": "opensage.kits.shell:ShellKit",
    "topology": "opensage.topology:TopologyKit",
    "synthesis": "opensage.synthesis:SynthesisKit",
    "memory": "opensage.kits.memory:MemoryKit",
    "swe": "opensage.kits.swe:SweKit",
    "security": "opensage.kits.security:SecurityKit",
}
_registered: dict[str, KitFactory] = {}


def register_kit(name: str, factory: KitFactory, *, replace: bool = False) -> None:
    """Make `name` mean the kit `factory()` makes (a Kit class will do). A name already taken
    is refused unless `replace` is set."""
    if not replace and (name in _registered or name in BUILT_IN):
        raise ValueError(
            f"a kit named {name!r} is already registered; choose another name, or pass replace=True"
        )
    _registered[name] = factory


def kit_names() -> list[str]:
    """Every name a kit can be asked for by: built in, registered, or from an entry point."""
    return sorted({*BUILT_IN, *_registered, *(ep.name for ep in entry_points(group=ENTRY_POINTS))})


def make_kit(name: str) -> Kit:
    """A new kit of the given name; a ConfigError, naming the known ones, if none has it."""
    factory = _registered.get(name) or _built_in(name) or _from_entry_point(name)
    if factory is None:
        raise ConfigError(
            f"unknown kit {name!r}; known kits: {', '.join(kit_names())}. A kit "
            "of another package is registered with register_kit, or by the "
            f"package's {ENTRY_POINTS!r} entry point once it is installed"
        )
    kit = factory()
    if not isinstance(kit, Kit):
        raise ConfigError(f"the kit {name!r} ({factory!r}) made a {type(kit).__name__}, not a Kit")
    return kit


def _built_in(name: str) -> KitFactory | None:
    if name not in BUILT_IN:
        return None
    module, _, attribute = BUILT_IN[name].partition(":")
    factory: KitFactory = getattr(importlib.import_module(module), attribute)
    return factory


def _from_entry_point(name: str) -> KitFactory | None:
    """The factory an installed package's entry point names, loaded (and kept) on first use."""
    ep = next(iter(entry_points(group=ENTRY_POINTS, name=name)), None)
    if ep is None:
        return None
    try:
        factory: KitFactory = ep.load()
    except Exception as exc:  # the package is broken, or misses what it imports
        raise ConfigError(
            f"the kit {name!r} of the {ENTRY_POINTS!r} entry point {ep.value!r} "
            f"cannot be loaded: {type(exc).__name__}: {exc}"
        ) from exc
    _registered[name] = factory
    return factory
