"""Importers: the public benchmarks' own files written as the task layouts the harness reads.

- `swe`: SWE-bench's rows (JSON or JSONL, as the data sets publish them) and a local clone of
  each repository: instance.json and repo/ at the row's base commit.
- `terminal`: Terminal-Bench 2.0 (Harbor) task folders, copied as they are; Terminal-Bench 1
  folders (task.yaml, run-tests.sh, solution.sh) converted as Harbor's own mapper does.
- `cybergym`: CyberGym's task files (tasks.json and data/<kind>/<id>/): task.toml, the
  archives and the files of the level asked for.

Nothing is downloaded: the user brings the files (docs/public-benchmarks.md says where they
come from). Each written task is read back with the suite's loader; a source task that cannot
be imported, or that the loader would reject, is skipped with the reason, and the rest go on.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from opensage.bench.suite import load_task
from opensage.bench.tasks import Broken
from opensage.errors import ConfigError


class Skip(Exception):
    """One source task that cannot be imported: why, for the user."""


@dataclass
class Report:
    """What an import did: the task folders written, and each source task skipped with why."""

    output: Path
    imported: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def skip(self, name: str, why: str) -> None:
        self.skipped.append((name, why))


def prepare_output(output: Path) -> Path:
    """The suite folder, made if need be (a file in its place is an error)."""
    if output.exists() and not output.is_dir():
        raise ConfigError(f"{output} is a file: give a folder for the imported suite")
    output.mkdir(parents=True, exist_ok=True)
    return output


def start_task(output: Path, name: str, force: bool) -> Path:
    """A fresh task folder in the suite. One already there is kept unless `force`: importing
    again into the same suite adds what is new and leaves what was imported before."""
    folder = output / name
    if folder.exists() or folder.is_symlink():
        if not force:
            raise Skip(f"{folder} already exists (give --force to import it again)")
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
        else:
            folder.unlink()
    folder.mkdir(parents=True)
    return folder


def finish_task(report: Report, name: str, folder: Path) -> None:
    """Read the written task back with the suite's loader: kept if it loads, else removed and
    reported with the loader's own words (which file, what is wrong)."""
    loaded = load_task(folder)
    if isinstance(loaded, Broken):
        shutil.rmtree(folder, ignore_errors=True)
        report.skip(name, f"the harness would reject it: {loaded.error}")
    else:
        report.imported.append(folder.name)


def safe_name(text: str) -> str:
    """A task id as a folder name: CyberGym's `arvo:1065` becomes `arvo-1065`."""
    name = "".join(c if c.isalnum() or c in "._-" else "-" for c in text).strip(".-")
    if not name:
        raise Skip(f"{text!r} gives no usable folder name")
    return name


def link_or_copy(source: Path, dest: Path) -> None:
    """A large file (a source archive) into the suite: a hard link where the file system
    allows one (no second copy of hundreds of megabytes), else a copy."""
    try:
        dest.hardlink_to(source)
    except OSError:
        shutil.copyfile(source, dest)


def toml_table(name: str, values: dict[str, object]) -> str:
    """One TOML table of plain values (strings, numbers, booleans, lists of strings); the
    values that are None are left out. JSON's string escapes are TOML's too."""
    lines = [f"[{name}]"]
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            text = repr(value)
        elif isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            text = json.dumps(value, ensure_ascii=False)
        else:
            raise TypeError(f"{key}: {value!r} is no plain TOML value")
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"
