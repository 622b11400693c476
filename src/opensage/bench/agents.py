"""Bench agents: what works on a task between its preparation and its verification.

A bench agent has a `name` and `async solve(task: AgentTask) -> AgentOutcome | None`. It gets
what the task's level allows and nothing else: the prompt (instruction, problem statement or
description), its work dir (on the host, and as its commands see it), the sandbox its commands
must run in (the task's environment), its time, and for model-based agents the model spec, the
kits the kind calls for and OpenSage's home (where its runs are recorded: `opensage runs show
RUN_ID`). What it leaves in the work dir is what gets verified: the files of a terminal task's
/app, the changes to an SWE repository (the patch is taken from them), the `poc` file of a PoC
task.

Built in: `swe`, `swe-guided` (for small local models), `terminal` and `poc`, the model-based
agents of `opensage.bench.kit_agents` (one plain file each, to copy and change); `oracle`
applies the known solution (the one agent that sees it: `sees_solution`); `null` does nothing.
`path/to/file.py:NAME` loads NAME from a Python file the user names: a class (made with no
arguments), an object with `solve`, or an async function of the task.
That file runs in the OpenSage process, as code the user trusts; the commands it sends to the
task's sandbox are the ones that run isolated.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import shutil
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable

from opensage.errors import ConfigError
from opensage.sandbox import ExecResult, Sandbox, SandboxLimits

BUILT_IN = ("swe", "swe-guided", "terminal", "poc", "oracle", "null")
# The kits each kind of task calls for: what a model-based agent gives its model.
KIND_KITS = {
    "terminal": ("files", "shell"),
    "swe": ("swe",),
    # The security kit builds and runs; the files and shell kits read the source.
    "poc": ("files", "shell", "security"),
}


@dataclass(frozen=True)
class Reference:
    """The known solution, for the oracle only: a terminal task's solution/ folder, an SWE
    instance's `patch`, a PoC task's solution/poc."""

    solution_dir: Path | None = None  # seen inside the sandbox at /solution
    patch: str | None = None
    poc: Path | None = None


@dataclass
class AgentTask:
    task_id: str
    kind: str  # terminal | swe | poc
    prompt: str
    workdir: Path  # on the host
    cwd: str  # the work dir as the sandbox's commands see it (/app for a terminal task)
    sandbox: Sandbox  # the task's environment: every command of the agent runs here
    timeout_s: float
    model: str | None = None
    home: Path | None = None  # OpenSage's home, where a model-based agent records its runs
    limits: SandboxLimits = field(default_factory=SandboxLimits)
    reference: Reference | None = None  # only for an agent that `sees_solution`
    kits: tuple[str, ...] = ()  # the kits the task's kind calls for (KIND_KITS)
    # A folder every task of the benchmark run shares, kept when the run resumes (in its
    # output dir): what an agent carries from task to task (the kit agents' lessons).
    shared: Path | None = None
    attempt: int = 0  # which repeat (--repeat) this is
    # How the task's tests run, where the agent may know it (an SWE instance's test_cmd).
    test_command: str | None = None

    async def exec(
        self,
        cmd: str | list[str],
        *,
        timeout_s: float | None = None,
        stdin: str | bytes | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ExecResult:
        """A command in the work dir, in the task's sandbox, within the agent's time."""
        return await self.sandbox.exec(
            cmd,
            workdir=self.workdir,
            env=env,
            stdin=stdin,
            timeout_s=timeout_s or self.timeout_s,
            limits=self.limits,
        )


@dataclass
class AgentOutcome:
    """What an agent reports besides its work: its run (if it made one) and what it spent."""

    answer: str | None = None
    run_id: str | None = None
    steps: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0


@runtime_checkable
class BenchAgent(Protocol):
    name: str

    async def solve(self, task: AgentTask) -> AgentOutcome | None: ...


class NullAgent:
    """Does nothing: every suite must score 0 with it."""

    name = "null"

    async def solve(self, task: AgentTask) -> AgentOutcome | None:
        return None


class OracleAgent:
    """Applies the known solution: every suite must score 100% with it."""

    name = "oracle"
    sees_solution = True

    async def solve(self, task: AgentTask) -> AgentOutcome | None:
        ref = task.reference
        if ref is None:
            raise RuntimeError("the oracle was given no reference solution")
        if task.kind == "terminal":
            result = await task.exec(["bash", "/solution/solve.sh"])
            return AgentOutcome(answer=_said(result, "solve.sh"))
        if task.kind == "swe":
            from opensage.bench.swe import git_apply

            problem = await git_apply(task.sandbox, task.workdir, ref.patch or "", task.limits)
            if problem:
                raise RuntimeError(f"the reference patch does not apply: {problem}")
            return AgentOutcome(answer="applied the reference patch")
        if task.kind == "poc":
            if ref.poc is None:
                raise RuntimeError("the task has no solution/poc")
            shutil.copyfile(ref.poc, task.workdir / "poc")
            return AgentOutcome(answer="copied solution/poc")
        raise RuntimeError(f"the oracle knows no task kind {task.kind!r}")


def _said(result: ExecResult, what: str) -> str:
    end = "timed out" if result.timed_out else f"exit code {result.exit_code}"
    return f"{what}: {end}\n{result.stdout[-2000:]}{result.stderr[-2000:]}"


class FunctionAgent:
    """An async function of the task, as an agent."""

    def __init__(self, name: str, function: Callable[[AgentTask], Awaitable[Any]]):
        self.name = name
        self.function = function

    async def solve(self, task: AgentTask) -> AgentOutcome | None:
        result = await self.function(task)
        return result if isinstance(result, AgentOutcome) else None


def sees_solution(agent: BenchAgent) -> bool:
    return bool(getattr(agent, "sees_solution", False))


def load_agent(spec: str) -> BenchAgent:
    """A built-in agent's name, or `path/to/file.py:NAME` (host code the user trusts)."""
    if spec == "oracle":
        return OracleAgent()
    if spec == "null":
        return NullAgent()
    if spec in BUILT_IN:
        from opensage.bench.kit_agents import AGENTS  # they import this module

        return AGENTS[spec]()
    path, colon, name = spec.rpartition(":")
    if not colon or not path.endswith(".py") or not name.isidentifier():
        raise ConfigError(
            f"unknown agent {spec!r}: use one of {', '.join(BUILT_IN)} (swe, swe-guided, "
            "terminal and poc are model-based: pass --model SPEC, or the configured "
            "default model is used), or path/to/file.py:NAME for your own (a class, an object "
            "with `async solve(task)`, or an async function of the task; the built-in "
            "ones are in opensage/bench/kit_agents/, to copy)"
        )
    return _from_file(Path(path), name, spec)


def _from_file(path: Path, name: str, spec: str) -> BenchAgent:
    if not path.is_file():
        raise ConfigError(f"the agent file {path} does not exist")
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    module_name = f"opensage_bench_agent_{digest}"
    module = sys.modules.get(module_name)
    if module is None:
        loader = importlib.util.spec_from_file_location(module_name, path)
        if loader is None or loader.loader is None:
            raise ConfigError(f"cannot import {path} as Python")
        module = importlib.util.module_from_spec(loader)
        sys.modules[module_name] = module
        try:
            loader.loader.exec_module(module)
        except Exception as exc:
            del sys.modules[module_name]
            raise ConfigError(
                f"importing the agent file {path} failed: {type(exc).__name__}: {exc}"
            ) from exc
    found = getattr(module, name, None)
    if found is None:
        raise ConfigError(f"{path} defines no {name!r}")
    if inspect.isclass(found):
        found = found()
    elif inspect.iscoroutinefunction(found):
        return FunctionAgent(name, found)
    if not callable(getattr(found, "solve", None)):
        raise ConfigError(
            f"{spec} is neither an agent (an object with async solve(task)) nor "
            "an async function of the task"
        )
    if not getattr(found, "name", None):
        setattr(found, "name", name)  # noqa: B010
    return cast(BenchAgent, found)
