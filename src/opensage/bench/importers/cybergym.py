"""CyberGym's task files into PoC tasks.

CyberGym's data (the sunblaze-ucb/cybergym data set) holds tasks.json, one record per task
(`task_id` such as `arvo:1065` or `oss-fuzz:42535201`, `project_name`, `project_language`,
`project_main_repo`, `vulnerability_description`), and data/<kind>/<id>/ with
repo-vul.tar.gz, repo-fix.tar.gz, description.txt, error.txt and patch.diff. Each task becomes
a folder named by its id (`arvo-1065`) with task.toml, both archives (the fixed one is what
verification checks a PoC against; the agent sees it at level 3 only) and the level's files:
description.txt from level 1, error.txt from 2, patch.diff at 3. A reference input (`poc`)
next to them becomes solution/poc, for the oracle.

CyberGym builds and runs its tasks in its own Docker images (n132/arvo:<id>-vul and
cybergym/oss-fuzz:<id>-vul, from OSS-Fuzz's builders), so its files do not say how to build
one outside them. What can be derived is written: the build command runs the OSS-Fuzz
build.sh found in the vulnerable archive, the binary is the fuzz target that error.txt shows
running (`out/NAME`), the sanitizers are those error.txt reports. `build_command` and `binary`
override them; a task for which neither gives an answer is skipped saying which to give.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from opensage.bench.importers import (
    Report,
    Skip,
    finish_task,
    link_or_copy,
    prepare_output,
    safe_name,
    start_task,
    toml_table,
)
from opensage.errors import ConfigError

KINDS = ("arvo", "oss-fuzz", "oss-fuzz-latest")
RUN_TIMEOUT_S = 10  # CyberGym's own limit on one run of the target
LEVEL_FILES = ((1, "description.txt"), (2, "error.txt"), (3, "patch.diff"))
# libFuzzer's line naming the binary it runs, a stack frame in it, or the fuzz entry's file.
RUNNING = re.compile(r"^(?:\S*/)?([\w.+-]+): Running \d+ inputs?", re.MULTILINE)
FRAME = re.compile(r"\(/out/([\w.+-]+)\+0x[0-9a-f]+\)")
ENTRY = re.compile(r"in LLVMFuzzerTestOneInput \S*/([\w.+-]+)\.\w+:\d+")
SANITIZERS = {
    "AddressSanitizer": "address",
    "LeakSanitizer": "address",
    "MemorySanitizer": "memory",
    "UndefinedBehaviorSanitizer": "undefined",
    "runtime error:": "undefined",
}


@dataclass
class Source:
    """One CyberGym task: its id, its data folder and its record in tasks.json (if any)."""

    task_id: str
    folder: Path
    record: dict[str, Any]


def find_tasks(source: Path) -> list[Source]:
    """The tasks at `source`: CyberGym's data root (tasks.json and data/), its data/ folder,
    or one task's folder (data/arvo/1065)."""
    if not source.is_dir():
        raise ConfigError(f"{source} is not a folder: give CyberGym's data folder")
    if (source / "repo-vul.tar.gz").exists():
        return [Source(f"{source.parent.name}:{source.name}", source, {})]
    data = source / "data" if (source / "data").is_dir() else source
    index = source / "tasks.json"
    if index.is_file():
        try:
            records = json.loads(index.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{index} is not valid JSON: {exc}") from None
        if not isinstance(records, list):
            raise ConfigError(f"{index} must hold a list of task records")
        found = []
        for record in records:
            task_id = record.get("task_id") if isinstance(record, dict) else None
            if isinstance(task_id, str) and ":" in task_id:
                kind, _, number = task_id.partition(":")
                found.append(Source(task_id, data / kind / number, record))
            else:
                found.append(Source(str(task_id), data / "?", {"invalid": record}))
        return found
    found = [
        Source(f"{kind}:{folder.name}", folder, {})
        for kind in KINDS
        if (data / kind).is_dir()
        for folder in sorted((data / kind).iterdir())
        if folder.is_dir()
    ]
    if not found:
        raise ConfigError(
            f"{source} holds no CyberGym tasks: give the data set's folder (tasks.json and "
            "data/arvo/<id>/...), its data/ folder, or one task's folder"
        )
    return found


def import_cybergym(
    source: Path,
    output: Path,
    *,
    level: int = 3,
    tasks: set[str] | None = None,
    build_command: str | None = None,
    binary: str | None = None,
    force: bool = False,
) -> Report:
    if not 0 <= level <= 3:
        raise ConfigError(f"level must be 0, 1, 2 or 3, not {level}")
    found = find_tasks(source)
    report = Report(prepare_output(output))
    for task in found:
        if tasks is not None and task.task_id not in tasks:
            continue
        try:
            folder = _write(task, output, level, build_command, binary, force)
        except Skip as exc:
            report.skip(task.task_id, str(exc))
            continue
        finish_task(report, task.task_id, folder)
    if tasks is not None:
        for missing in sorted(tasks - {t.task_id for t in found}):
            report.skip(missing, f"no such task in {source}")
    return report


def _write(
    task: Source,
    output: Path,
    level: int,
    build_command: str | None,
    binary: str | None,
    force: bool,
) -> Path:
    if "invalid" in task.record:
        raise Skip("its tasks.json record has no task_id of the form kind:number")
    vul = task.folder / "repo-vul.tar.gz"
    if not vul.is_file():
        raise Skip(f"{vul} is missing (is the data set's git-lfs content fetched?)")
    for wanted, name in LEVEL_FILES:
        if level >= wanted and name == "description.txt" and not (task.folder / name).is_file():
            raise Skip(f"{task.folder / name} is missing, and level {level} shows it")
    error = _text(task.folder / "error.txt")
    binary = binary or _binary(error)
    command = build_command or _build_command(vul, task.record.get("project_name"))
    folder = start_task(output, safe_name(task.task_id), force)
    try:
        for name in ("repo-vul.tar.gz", "repo-fix.tar.gz"):
            if (task.folder / name).is_file():
                link_or_copy(task.folder / name, folder / name)
        for wanted, name in LEVEL_FILES:
            if level >= wanted and (task.folder / name).is_file():
                shutil.copyfile(task.folder / name, folder / name)
        if (task.folder / "poc").is_file():
            (folder / "solution").mkdir()
            shutil.copyfile(task.folder / "poc", folder / "solution" / "poc")
        (folder / "task.toml").write_text(_task_toml(task, level, command, binary, error))
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise Skip(f"could not write it: {exc}") from None
    return folder


def _task_toml(task: Source, level: int, command: str, binary: str, error: str) -> str:
    record = task.record
    metadata = {
        "task_id": task.task_id,
        "source": "cybergym",
        "level": level,
        **{
            k: record[k]
            for k in ("project_name", "project_language", "project_main_repo")
            if isinstance(record.get(k), str)
        },
    }
    sanitizers = sorted({v for k, v in SANITIZERS.items() if k in error})
    return "\n".join(
        [
            f"# CyberGym {task.task_id}, imported from its task files",
            toml_table("metadata", metadata),
            toml_table("build", {"command": command, "sanitizers": sanitizers or None}),
            toml_table("poc", {"binary": binary, "timeout_sec": RUN_TIMEOUT_S}),
        ]
    )


def _binary(error: str) -> str:
    """out/NAME, the fuzz target error.txt shows running."""
    for pattern in (RUNNING, FRAME, ENTRY):
        match = pattern.search(error)
        if match:
            return f"out/{match.group(1)}"
    raise Skip(
        "error.txt does not show which fuzz target crashed (no libFuzzer `NAME: Running` "
        "line, no /out/NAME frame): give --binary out/NAME"
    )


def _build_command(archive: Path, project: object) -> str:
    """OSS-Fuzz's way: build.sh at the source's root run with SRC there, from the project's
    folder when the source has one of that name (OSS-Fuzz's builders start in it)."""
    try:
        with tarfile.open(archive, "r|*") as tar:
            members = [(PurePosixPath(m.name.removeprefix("./")), m.isdir()) for m in tar]
    except (tarfile.TarError, OSError) as exc:
        raise Skip(f"{archive.name} cannot be read: {exc}") from None
    members = [(p, d) for p, d in members if p.parts]
    tops = {p.parts[0] for p, _ in members}
    # The harness takes an archive whose content is one folder as that folder.
    strip = len(tops) == 1 and any(len(p.parts) > 1 or d for p, d in members)
    root = {PurePosixPath(*p.parts[strip:]) for p, _ in members if len(p.parts) > strip}
    if PurePosixPath("build.sh") not in root:
        raise Skip(
            f"{archive.name} has no build.sh at its root (OSS-Fuzz's build script): give "
            "--build-command, a command run in the source's root with OSS-Fuzz's variables "
            "(CC, CFLAGS, OUT...) set"
        )
    folders = {parent for path in root for parent in path.parents}
    start = ""
    if isinstance(project, str) and PurePosixPath(project) in folders:
        start = f"cd {shlex.quote(project)} && "
    return f'export SRC="$PWD" && {start}bash "$SRC/build.sh"'


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""
    except OSError:
        return ""
