"""A suite: a folder of task folders, or one task folder. Each task's kind is told by what it
holds; a task that cannot be loaded is kept as `Broken` (reported, never run) so that the rest
still runs. Folders whose names start with "." or "_" are not tasks (shared files, caches)."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from opensage.bench import poc, swe, terminal
from opensage.bench.tasks import Broken, MalformedTask, Task
from opensage.errors import ConfigError

LOADERS: dict[str, Callable[[Path], Task]] = {
    "terminal": terminal.load,
    "swe": swe.load,
    "poc": poc.load,
}


@dataclass
class Suite:
    path: Path
    tasks: list[Task] = field(default_factory=list)
    broken: list[Broken] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return sorted([t.id for t in self.tasks] + [b.id for b in self.broken])


def kind_of(path: Path) -> str | None:
    """The kind a folder's files make it, or None if it is no task at all."""
    if (path / "instance.json").exists():
        return "swe"
    if not (path / "task.toml").exists():
        return None
    if (path / "instruction.md").exists() or (path / "environment").exists():
        return "terminal"
    if (path / "repo-vul.tar.gz").exists() or (path / "repo-vul").exists():
        return "poc"
    try:
        data = tomllib.loads((path / "task.toml").read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
        return "terminal"  # its loader names what is wrong
    return "poc" if "poc" in data or "build" in data else "terminal"


def load_task(path: Path) -> Task | Broken:
    kind = kind_of(path)
    if kind is None:
        return Broken(
            path.name,
            path,
            None,
            MalformedTask(
                path,
                "task.toml",
                "missing, and no instance.json either: not a task folder (a "
                "terminal or PoC task has task.toml, an SWE task instance.json)",
            ),
        )
    try:
        return LOADERS[kind](path)
    except MalformedTask as exc:
        return Broken(path.name, path, kind, exc)
    except OSError as exc:
        return Broken(
            path.name,
            path,
            kind,
            MalformedTask(path, exc.filename or path.name, exc.strerror or str(exc)),
        )


def load_suite(path: Path, skip: tuple[Path, ...] = ()) -> Suite:
    """The suite at `path`; folders that are or hold one of `skip` (the benchmark's output
    dir, when it lies in the suite) are not tasks."""
    path = Path(path)
    skip = tuple(p.resolve() for p in skip)
    if not path.is_dir():
        raise ConfigError(
            f"{path} is not a folder: give a suite (a folder of task folders) or one task folder"
        )
    suite = Suite(path.resolve())
    if kind_of(path) is not None:
        folders = [path]
    else:
        folders = sorted(
            p
            for p in path.iterdir()
            if p.is_dir()
            and not p.name.startswith((".", "_"))
            and not any(s.is_relative_to(p.resolve()) for s in skip)
        )
    for folder in folders:
        loaded = load_task(folder)
        if isinstance(loaded, Broken):
            suite.broken.append(loaded)
        else:
            suite.tasks.append(loaded)
    if not folders:
        raise ConfigError(f"{path} holds no task folders")
    return suite
