"""Terminal tasks (Harbor / Terminal-Bench 2.0): task.toml, instruction.md,
environment/Dockerfile, tests/test.sh, solution/solve.sh.

The agent works in the task's environment, in its WORKDIR (/app by convention). A Dockerfile
bwrap can stand in for (see `dockerfile`) runs there: the host's system is the base, the work
dir is bound at WORKDIR, copied files are laid out on the host and bound where they go, ENV is
every command's. Any other is built with the container engine (no network; a base image that is
not on this machine is replaced by the local sandbox image, and the results say so), its WORKDIR
copied out to the work dir, and every command runs in a fresh container of that image with the
work dir bound at WORKDIR (so only the work dir and /logs keep what a command writes).

Verification: tests/ is bound read-only at /tests, a fresh /logs (the agent's own /logs is
another folder, so it cannot plant a reward), and `bash /tests/test.sh` runs in the same
environment within [verifier] timeout_sec. The reward is /logs/verifier/reward.txt (a number)
or reward.json ({"reward": x}); resolved when it is at least 1.
"""

from __future__ import annotations

import asyncio
import glob
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from opensage.bench import dockerfile
from opensage.bench.agents import Reference
from opensage.bench.attempt import (
    Attempt,
    EnvSandbox,
    InfraError,
    Verdict,
    Workspace,
    check_sandbox,
    tail,
)
from opensage.bench.tasks import (
    MalformedTask,
    Task,
    read_text,
    read_toml,
    seconds,
    table,
    timeouts,
)
from opensage.sandbox import Bind, Sandbox
from opensage.sandbox.base import RESERVED

BUILD_TIMEOUT_S = 600.0


@dataclass
class TerminalTask(Task):
    plan: dockerfile.Plan | None = None
    build_timeout_s: float = BUILD_TIMEOUT_S

    @property
    def environment(self) -> Path:
        return self.path / "environment"

    @property
    def runs_in_bwrap(self) -> bool:
        return not self.needs_build

    @property
    def needs_build(self) -> list[str]:
        assert self.plan is not None
        reasons = list(self.plan.needs_build)
        for target in [self.plan.workdir, *(_top(c.dest) for c in self.outside_copies)]:
            if _reserved(target):
                reasons.append(f"files go to {target}, a system folder")
        return reasons

    @property
    def outside_copies(self) -> list[dockerfile.Copy]:
        assert self.plan is not None
        work = PurePosixPath(self.plan.workdir)
        return [c for c in self.plan.copies if not PurePosixPath(c.dest).is_relative_to(work)]


def load(path: Path) -> TerminalTask:
    data = read_toml(path)
    agent_s, verifier_s = timeouts(data, path)
    env = table(data, "environment", path)
    build_s = seconds(env, "build_timeout_sec", BUILD_TIMEOUT_S, path, "task.toml [environment]")
    prompt = read_text(path, "instruction.md") or ""
    if not prompt.strip():
        raise MalformedTask(path, "instruction.md", "is empty")
    text = read_text(path, "environment/Dockerfile") or ""
    plan = dockerfile.plan(text, path)
    read_text(path, "tests/test.sh")
    for copy in plan.copies:
        for source in copy.sources:
            if not glob.glob(str(path / "environment" / source)):
                raise MalformedTask(
                    path, "environment/Dockerfile", f"COPY {source}: no such file in environment/"
                )
    return TerminalTask(
        path.name, "terminal", path, prompt, agent_s, verifier_s, plan=plan, build_timeout_s=build_s
    )


async def prepare(
    attempt: Attempt, task: TerminalTask, with_solution: bool
) -> tuple[Workspace, Reference | None]:
    assert task.plan is not None
    workdir = attempt.root / "work"
    workdir.mkdir(parents=True)
    (attempt.root / "logs" / "agent").mkdir(parents=True)
    reference = None
    if with_solution:
        solve = task.path / "solution" / "solve.sh"
        if not solve.is_file():
            raise MalformedTask(task.path, "solution/solve.sh", "missing (the oracle needs it)")
        reference = Reference(solution_dir=task.path / "solution")
    made = await (
        _lay_out(attempt, task, workdir) if task.runs_in_bwrap else _build(attempt, task, workdir)
    )
    solution = reference.solution_dir if reference else None
    sandbox = _sandbox(attempt, made, workdir, attempt.root / "logs", solution=solution)
    ws = Workspace(workdir, made.cwd, sandbox, made.backend, made.notes, {"env": made})
    return ws, reference


@dataclass
class Environment:
    """The task's environment as prepared: the backend, the work dir as commands see it,
    binds besides the work dir's, the variables, the image (container)."""

    backend: str
    cwd: str
    binds: list[Bind]
    env: dict[str, str]
    image: str | None = None
    notes: list[str] = field(default_factory=list)


async def _lay_out(attempt: Attempt, task: TerminalTask, workdir: Path) -> Environment:
    """bwrap stands in: COPY's files laid out on the host, bound where they go."""
    assert task.plan is not None
    plan = task.plan
    tops: dict[str, Path] = {}
    outside = task.outside_copies
    for copy in plan.copies:
        if copy in outside:
            top = _top(copy.dest)
            host = tops.setdefault(top, attempt.root / "root" / top.lstrip("/"))
            if not (copy.dest == top and _one_file(task.environment, copy)):
                host.mkdir(parents=True, exist_ok=True)  # else a file of its own, e.g. /run.sh
            target = host / PurePosixPath(copy.dest.rstrip("/")).relative_to(top)
        else:
            target = workdir / PurePosixPath(copy.dest.rstrip("/")).relative_to(plan.workdir)
        await asyncio.to_thread(_copy, task.environment, copy, target, copy.dest.endswith("/"))
    notes = [f"base image {plan.base}: the host's system stands in for it (bwrap)"]
    notes += plan.satisfied
    if not plan.workdir_given:
        notes.append(f"the Dockerfile sets no WORKDIR: the work dir is {plan.workdir}")
    binds = [Bind(host, top, writable=True) for top, host in tops.items()]
    return Environment("bwrap", plan.workdir, binds, dict(plan.env), notes=notes)


async def _build(attempt: Attempt, task: TerminalTask, workdir: Path) -> Environment:
    """The container engine builds the image; its WORKDIR is copied out to the work dir."""
    assert task.plan is not None
    engine = _engine(attempt)
    image, notes = await _image(attempt, task, engine)
    cwd = await _workdir_of(engine, image) or task.plan.workdir
    if _reserved(cwd):
        raise InfraError(
            f"the image's WORKDIR {cwd} is a system folder, which cannot be bound to the work dir",
            retry=False,
        )
    await _copy_out(engine, image, cwd, workdir)
    notes.append("built: " + "; ".join(task.needs_build))
    return Environment("container", cwd, [], {}, image, notes)


def _sandbox(
    attempt: Attempt,
    made: Environment,
    workdir: Path,
    logs: Path,
    *,
    tests: Path | None = None,
    solution: Path | None = None,
) -> Sandbox:
    binds = [
        Bind(workdir, made.cwd, writable=True),
        Bind(logs, "/logs", writable=True),
        *made.binds,
    ]
    if tests is not None:
        binds.append(Bind(tests, "/tests"))
    if solution is not None:
        binds.append(Bind(solution, "/solution"))
    inner = attempt.sandbox(made.backend, binds=binds, image=made.image)
    return EnvSandbox(inner, made.env)


async def verify(attempt: Attempt, task: TerminalTask, ws: Workspace) -> Verdict:
    tests, logs = attempt.root / "tests", attempt.root / "verifier-logs"
    await asyncio.to_thread(shutil.copytree, task.path / "tests", tests, symlinks=True)
    (logs / "verifier").mkdir(parents=True)
    (logs / "agent").mkdir()
    sandbox = _sandbox(attempt, ws.state["env"], ws.workdir, logs, tests=tests)
    result = await sandbox.exec(
        ["bash", "/tests/test.sh"],
        workdir=ws.workdir,
        timeout_s=task.verifier_timeout_s,
        limits=attempt.limits_for(task.verifier_timeout_s),
    )
    check_sandbox(result, ws.backend, "test.sh")
    log = f"$ bash /tests/test.sh  (exit code {result.exit_code})\n{result.stdout}\n{result.stderr}"
    if result.timed_out:
        return Verdict(
            False,
            log=log,
            error=f"test.sh ran past the verifier's timeout ({task.verifier_timeout_s:g} s)",
        )
    reward, problem = read_reward(logs / "verifier")
    if reward is None:
        return Verdict(
            False,
            log=log,
            error=f"{problem} (test.sh exit code {result.exit_code}): {tail(result.stderr, 300)}",
        )
    return Verdict(reward >= 1, log=log, reward=reward)


def read_reward(folder: Path) -> tuple[float | None, str]:
    """The reward test.sh wrote, or None and why there is none."""
    text_file, json_file = folder / "reward.txt", folder / "reward.json"
    try:
        if text_file.is_file() and not text_file.is_symlink():
            return float(text_file.read_text()[:100].strip()), ""
        if json_file.is_file() and not json_file.is_symlink():
            data = json.loads(json_file.read_text()[:100_000])
            value = data.get("reward") if isinstance(data, dict) else None
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value), ""
            return None, 'reward.json holds no number under "reward"'
    except (ValueError, OSError) as exc:
        return None, f"the reward file does not hold a number ({exc})"
    return None, "test.sh wrote no /logs/verifier/reward.txt or reward.json"


# --- files ----------------------------------------------------------------------------------


def _top(dest: str) -> str:
    parts = PurePosixPath(dest).parts
    return "/" + parts[1] if len(parts) > 1 else "/"


def _reserved(target: str) -> bool:
    path = Path(target)
    return path == Path("/") or any(path.is_relative_to(r) for r in RESERVED)


def _one_file(context: Path, copy: dockerfile.Copy) -> bool:
    found = [p for s in copy.sources for p in glob.glob(str(context / s))]
    return len(found) == 1 and Path(found[0]).is_file()


def _copy(context: Path, copy: dockerfile.Copy, target: Path, into: bool) -> None:
    """COPY as Docker does it: a folder's content, files by name; into `target` when it is a
    folder (a destination ending in /, several sources, or a folder already)."""
    sources = [Path(p) for s in copy.sources for p in sorted(glob.glob(str(context / s)))]
    into = into or len(sources) > 1 or target.is_dir()
    for source in sources:
        if source.is_dir():
            shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
        else:
            dest = target / source.name if into else target
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest, follow_symlinks=False)


# --- images ---------------------------------------------------------------------------------


def _engine(attempt: Attempt) -> list[str]:
    """The container engine's command, with the runtime the container backend uses."""
    from opensage.sandbox.container import ContainerSandbox

    sandbox = attempt.sandbox("container")
    assert isinstance(sandbox, ContainerSandbox)
    runtime = ["--runtime", sandbox.runtime] if sandbox.runtime else []
    return [sandbox.engine, *runtime]


async def _image(attempt: Attempt, task: TerminalTask, engine: list[str]) -> tuple[str, list[str]]:
    """The task's image, built once (tagged by the hash of environment/)."""
    digest = _digest(task.environment)
    name = re.sub(r"[^a-z0-9_.-]", "-", task.id.lower())[:60] or "task"
    tag = f"opensage-bench-{name}:{digest[:16]}"
    text = (task.environment / "Dockerfile").read_text()
    notes, text = await _stand_ins(engine, text, attempt.image or _default_image())
    async with attempt.lock(tag):  # one build per image at a time
        if (await _run([*engine, "image", "inspect", tag], 60))[0] == 0:
            return tag, notes
        file = attempt.root / "Dockerfile"
        file.write_text(text)
        pull = ["--pull=never"] if Path(engine[0]).name == "podman" else []
        code, out = await _run(
            [
                *engine,
                "build",
                "--network=none",
                *pull,
                "-t",
                tag,
                "-f",
                str(file),
                str(task.environment),
            ],
            task.build_timeout_s,
        )
        if code != 0:
            raise InfraError(
                f"building the task's image failed (exit code {code}):\n{tail(out, 2000)}"
            )
    return tag, notes


async def _stand_ins(engine: list[str], text: str, local: str) -> tuple[list[str], str]:
    """The Dockerfile with each base image not on this machine replaced by `local` (nothing is
    pulled at run time), and a note for each."""
    notes, stages = [], set()
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(\s*FROM\s+(?:--\S+\s+)*)(\S+)(.*)$", line, re.IGNORECASE)
        if not m:
            continue
        image = m[2]
        alias = re.search(r"\bAS\s+(\S+)", m[3], re.IGNORECASE)
        if (
            image.lower() not in stages
            and image != "scratch"
            and (await _run([*engine, "image", "inspect", image], 60))[0] != 0
        ):
            notes.append(
                f"base image {image} is not on this machine (nothing is pulled at "
                f"run time): the local sandbox image {local} stood in for it"
            )
            lines[i] = f"{m[1]}{local}{m[3]}"
        if alias:
            stages.add(alias[1].lower())
    return notes, "\n".join(lines) + "\n"


async def _workdir_of(engine: list[str], image: str) -> str | None:
    code, out = await _run(
        [*engine, "image", "inspect", image, "--format", "{{.Config.WorkingDir}}"], 60
    )
    found = out.strip()
    return found if code == 0 and found.startswith("/") and found != "/" else None


async def _copy_out(engine: list[str], image: str, folder: str, workdir: Path) -> None:
    """The image's `folder` (its WORKDIR), copied to the work dir; nothing runs."""
    code, out = await _run([*engine, "create", image, "sh"], 120)
    if code != 0:
        raise InfraError(f"could not create a container of {image}: {tail(out, 1000)}")
    container = out.strip().splitlines()[-1]
    try:
        code, out = await _run([*engine, "cp", f"{container}:{folder}/.", str(workdir)], 600)
        if code != 0 and "no such file" not in out.lower():
            raise InfraError(f"could not copy {folder} out of {image}: {tail(out, 1000)}")
    finally:
        await _run([*engine, "rm", "-f", container], 120)


async def _run(argv: list[str], timeout_s: float) -> tuple[int, str]:
    """A command of the container engine (on the host: it builds and copies, it runs no task
    code outside a container); its exit code and output."""
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return 124, f"{argv[1]} ran past {timeout_s:g} s"
    return proc.returncode or 0, out.decode(errors="replace")


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            h.update(str(path.relative_to(folder)).encode() + b"\0")
            h.update(path.read_bytes() if not path.is_symlink() else os.readlink(path).encode())
    return h.hexdigest()


def _default_image() -> str:
    from opensage.sandbox.container import DEFAULT_IMAGE

    return DEFAULT_IMAGE
