"""Terminal-Bench task folders into a terminal suite.

Terminal-Bench 2.0 tasks are Harbor tasks (task.toml, instruction.md, environment/Dockerfile,
tests/test.sh, solution/solve.sh): the harness's own layout, so each one is copied as it is and
read back with the loader, which names what it would reject (a docker-compose environment, a
Dockerfile instruction it cannot follow, a missing file).

Terminal-Bench 1 tasks (task.yaml with the instruction and timeouts, Dockerfile,
docker-compose.yaml, run-tests.sh, tests/, solution.sh) are converted as Harbor's own mapper
(`harbor tasks migrate`) does: the instruction to instruction.md, the timeouts to task.toml,
the Dockerfile and the other files of its build context to environment/ (with the one
service's environment and working_dir as ENV and WORKDIR lines), run-tests.sh to tests/test.sh
with a reward written from its exit code, and solution.sh to solution/solve.sh. Tasks that
need several containers, or whose solution is a solution.yaml, are not converted.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from opensage.bench.importers import (
    Report,
    Skip,
    finish_task,
    prepare_output,
    safe_name,
    start_task,
    toml_table,
)
from opensage.errors import ConfigError

# Appended to run-tests.sh: Terminal-Bench 1 judged a task by the script's exit code; Harbor
# (and the harness) read a reward.
REWARD_FROM_EXIT_CODE = """
_exit_code=$?
mkdir -p /logs/verifier
if [ "$_exit_code" -eq 0 ]; then echo 1 > /logs/verifier/reward.txt
else echo 0 > /logs/verifier/reward.txt; fi
exit "$_exit_code"
"""
# Terminal-Bench 1's defaults where task.yaml names no timeout.
AGENT_S = 360.0
TEST_S = 60.0
TB1_METADATA = ("author_name", "author_email", "difficulty", "category", "tags")
# The files of a Terminal-Bench 1 task that are not its environment's build context.
TB1_OWN = {"task.yaml", "solution.sh", "solution.yaml", "run-tests.sh", "tests"}
TB1_OWN |= {"docker-compose.yaml", "docker-compose.yml", "Dockerfile"}
# What Terminal-Bench 1's docker-compose.yaml gives every task, which Harbor provides itself.
TB1_DEFAULT_ENV = {"TEST_DIR=${T_BENCH_TEST_DIR}"}


def task_folders(source: Path) -> list[Path]:
    """The task folders at `source`: itself if it is one, else the folders in it."""
    if not source.is_dir():
        raise ConfigError(f"{source} is not a folder of Terminal-Bench tasks")
    if _is_task(source):
        return [source]
    return sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def _is_task(path: Path) -> bool:
    return any((path / name).is_file() for name in ("task.toml", "task.yaml", "instruction.md"))


def import_terminal(source: Path, output: Path, *, force: bool = False) -> Report:
    folders = task_folders(source)
    if not folders:
        raise ConfigError(f"{source} holds no task folders")
    report = Report(prepare_output(output))
    for path in folders:
        try:
            if (path / "task.toml").is_file() or (path / "instruction.md").is_file():
                folder = _copy_harbor(path, output, force)
            elif (path / "task.yaml").is_file():
                folder = _convert_tb1(path, output, force)
            else:
                raise Skip(
                    "not a task folder: a Terminal-Bench 2.0 (Harbor) task has task.toml and "
                    "instruction.md, a Terminal-Bench 1 task has task.yaml"
                )
        except Skip as exc:
            report.skip(path.name, str(exc))
            continue
        finish_task(report, path.name, folder)
    return report


def _copy_harbor(path: Path, output: Path, force: bool) -> Path:
    folder = start_task(output, safe_name(path.name), force)
    try:
        shutil.copytree(path, folder, symlinks=True, dirs_exist_ok=True)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise Skip(f"could not copy it: {exc}") from None
    return folder


def _convert_tb1(path: Path, output: Path, force: bool) -> Path:
    config = _yaml(path, "task.yaml")
    instruction = config.get("instruction")
    if not isinstance(instruction, str) or not instruction.strip():
        raise Skip("task.yaml has no instruction")
    if not (path / "solution.sh").is_file() and (path / "solution.yaml").is_file():
        raise Skip(
            "its solution is a solution.yaml (commands typed into a terminal), which is not "
            "converted: write it as solution.sh"
        )
    if not (path / "run-tests.sh").is_file():
        raise Skip(
            "it has no run-tests.sh (Terminal-Bench 1 then installs pytest from the network "
            "to run tests/; the sandbox has none): add a run-tests.sh that runs the tests"
        )
    service, context = _service(path)
    dockerfile = context / "Dockerfile"
    if not dockerfile.is_file():
        raise Skip(f"no Dockerfile in its build context ({context.relative_to(path)}/)")
    folder = start_task(output, safe_name(path.name), force)
    try:
        environment = folder / "environment"
        if context == path:
            for item in path.iterdir():
                if item.name not in TB1_OWN:
                    _copy(item, environment / item.name)
        else:
            shutil.copytree(context, environment, symlinks=True)
        environment.mkdir(exist_ok=True)
        text = dockerfile.read_text(encoding="utf-8")
        (environment / "Dockerfile").write_text(_with_service(text, service))
        if (path / "tests").is_dir():
            shutil.copytree(path / "tests", folder / "tests", symlinks=True)
        (folder / "tests").mkdir(exist_ok=True)
        script = (path / "run-tests.sh").read_text(encoding="utf-8")
        script = script.replace("${TEST_DIR}", "/tests").replace("$TEST_DIR", "/tests")
        script = script.rstrip("\n") + "\n" + REWARD_FROM_EXIT_CODE
        (folder / "tests" / "test.sh").write_text(script)
        if (path / "solution.sh").is_file():
            (folder / "solution").mkdir()
            shutil.copy2(path / "solution.sh", folder / "solution" / "solve.sh")
        (folder / "instruction.md").write_text(instruction.rstrip("\n") + "\n")
        (folder / "task.toml").write_text(_task_toml(config))
    except Skip:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    except (OSError, UnicodeDecodeError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise Skip(f"could not convert it: {exc}") from None
    return folder


def _task_toml(config: dict[str, Any]) -> str:
    def seconds(key: str, default: float) -> float:
        value = config.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise Skip(f"task.yaml {key} must be a positive number of seconds, not {value!r}")
        return float(value)

    metadata = {k: config[k] for k in TB1_METADATA if isinstance(config.get(k), str | list)}
    if not all(isinstance(t, str) for t in metadata.get("tags", [])):
        metadata.pop("tags")
    return "\n".join(
        [
            'version = "1.0"\n',
            toml_table("metadata", {**metadata, "source": "terminal-bench-1"}),
            toml_table("agent", {"timeout_sec": seconds("max_agent_timeout_sec", AGENT_S)}),
            toml_table("verifier", {"timeout_sec": seconds("max_test_timeout_sec", TEST_S)}),
        ]
    )


def _service(path: Path) -> tuple[dict[str, Any], Path]:
    """The one service of docker-compose.yaml and its build context (the task folder when it
    has no compose file)."""
    compose = next(
        (n for n in ("docker-compose.yaml", "docker-compose.yml") if (path / n).is_file()), None
    )
    if compose is None:
        return {}, path
    data = _yaml(path, compose)
    services = data.get("services")
    if not isinstance(services, dict) or not services:
        raise Skip(f"{compose} has no services")
    extra = [k for k in data if k not in ("services", "version")]
    if len(services) != 1 or extra:
        raise Skip(
            f"{compose} describes {len(services)} services"
            + (f" and {', '.join(extra)}" if extra else "")
            + ": tasks that need several containers are not supported (the harness runs one "
            "container per task)"
        )
    service = next(iter(services.values()))
    if not isinstance(service, dict):
        raise Skip(f"{compose}'s service is not a mapping")
    build = service.get("build", ".")
    context = build.get("context", ".") if isinstance(build, dict) else build
    if not isinstance(context, str):
        raise Skip(f"{compose}'s build context must be a path, not {context!r}")
    folder = (path / context).resolve()
    if not folder.is_relative_to(path.resolve()) or not folder.is_dir():
        raise Skip(f"{compose}'s build context {context!r} is not a folder of the task")
    return service, (path if folder == path.resolve() else path / context)


def _with_service(dockerfile: str, service: dict[str, Any]) -> str:
    """The Dockerfile with what the compose service set besides it: TEST_DIR (Harbor's /tests),
    its environment and its working_dir."""
    lines = ["ENV TEST_DIR=/tests"]
    env = service.get("environment") or []
    pairs = env.items() if isinstance(env, dict) else [str(e).partition("=")[::2] for e in env]
    for key, value in pairs:
        if f"{key}={value}" not in TB1_DEFAULT_ENV:
            lines.append(f"ENV {key}={json.dumps(str(value))}")
    workdir = service.get("working_dir")
    if isinstance(workdir, str) and "${" not in workdir:
        lines.append(f"WORKDIR {workdir}")
    return dockerfile.rstrip("\n") + "\n\n# From docker-compose.yaml\n" + "\n".join(lines) + "\n"


def _copy(item: Path, dest: Path) -> None:
    if item.is_dir() and not item.is_symlink():
        shutil.copytree(item, dest, symlinks=True)
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(item, dest, follow_symlinks=False)


def _yaml(path: Path, name: str) -> dict[str, Any]:
    try:
        import yaml
    except ImportError:
        raise ConfigError(
            "converting Terminal-Bench 1 tasks needs PyYAML: pip install 'opensage[bench]'"
        ) from None
    try:
        data = yaml.safe_load((path / name).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise Skip(f"{name} cannot be read: {exc}") from None
    if not isinstance(data, dict):
        raise Skip(f"{name} must hold a mapping")
    return data
