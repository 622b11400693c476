"""Running a benchmark: each attempt at each task is prepared, handed to the agent within its
time, and verified, in its own folder with its own sandboxes; its result is appended to the
results file as it ends, so that running the same command again resumes where it stopped.

`Settings` and `Job` are plain data, and a `Worker` is made from the settings alone, so that an
engine can run jobs anywhere: the local engine runs them as asyncio tasks in this process (at
most `parallel` at once); the Ray engine (`ray_engine`) runs them as Ray tasks, on a cluster or
a local Ray, and streams their results back through the same `Events`.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol, TypeVar

from opensage.bench import RETRIES, poc, swe, terminal
from opensage.bench.agents import (
    KIND_KITS,
    AgentOutcome,
    AgentTask,
    BenchAgent,
    load_agent,
    sees_solution,
)
from opensage.bench.attempt import Attempt, InfraError, Verdict, Workspace
from opensage.bench.results import (
    ResultsFile,
    TaskResult,
    check_meta,
    error,
    prune_predictions,
    write_prediction,
)
from opensage.bench.suite import Suite, load_suite
from opensage.bench.tasks import Broken, MalformedTask, Task
from opensage.errors import ConfigError
from opensage.sandbox import SandboxLimits
from opensage.version import __version__

KINDS: dict[str, ModuleType] = {"terminal": terminal, "swe": swe, "poc": poc}
T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    suite: Path
    output: Path
    home: Path  # OpenSage's home: hidden from every sandbox, where agents record their runs
    agent: str = "null"  # a name, or path/to/file.py:NAME
    model: str | None = None
    backend: str | None = None  # the sandbox backend for SWE and PoC tasks
    image: str | None = None
    level: int = 1  # what PoC tasks show
    repeat: int = 1
    retries: int = RETRIES
    keep: bool = False  # keep each attempt's folders (work dir, verification) after it
    limits: SandboxLimits = field(default_factory=SandboxLimits)

    def meta(self) -> dict[str, Any]:
        return {
            "suite": str(self.suite),
            "agent": self.agent,
            "model": self.model,
            "level": self.level,
            "repeat": self.repeat,
            "home": str(self.home),
            "version": __version__,
        }


@dataclass(frozen=True)
class Job:
    task_id: str
    attempt: int


class Events(Protocol):
    """What an engine reports as jobs start and end (on the machine that started them)."""

    def started(self, job: Job) -> None: ...

    def finished(self, result: TaskResult) -> None: ...


class Engine(Protocol):
    name: str

    async def run(self, jobs: Sequence[Job], settings: Settings, events: Events) -> None:
        """Run every job, reporting each result as it ends; a result reported is final."""
        ...


class LocalEngine:
    """Jobs as asyncio tasks of this process, at most `parallel` at once: an attempt waits on
    its sandboxes, so one process keeps several busy."""

    name = "local"

    def __init__(self, parallel: int = 1):
        if parallel < 1:
            raise ConfigError("--parallel must be at least 1")
        self.parallel = parallel

    async def run(self, jobs: Sequence[Job], settings: Settings, events: Events) -> None:
        worker = Worker(settings)
        slots = asyncio.Semaphore(self.parallel)

        async def one(job: Job) -> None:
            async with slots:
                events.started(job)
                events.finished(await worker.run(job))

        async with asyncio.TaskGroup() as group:
            for job in jobs:
                group.create_task(one(job))


def make_engine(name: str, parallel: int, ray_address: str | None = None) -> Engine:
    """`local`, or `ray` (a cluster at `ray_address` or RAY_ADDRESS, else a local Ray)."""
    if name == "local":
        return LocalEngine(parallel)
    if name == "ray":
        from opensage.bench.ray_engine import RayEngine  # ray is an optional extra

        return RayEngine(parallel, ray_address)
    raise ConfigError(f"unknown engine {name!r}; use local or ray")


class Worker:
    """Runs jobs of one benchmark: its suite and agent, loaded from the settings."""

    def __init__(
        self,
        settings: Settings,
        *,
        suite: Suite | None = None,
        agent: BenchAgent | None = None,
        cache: Path | None = None,
    ):
        self.settings = settings
        self.cache = cache or settings.output / "cache"  # kept across attempts (PoC builds)
        self.suite = suite or load_suite(settings.suite, skip=(settings.output,))
        self.agent = agent or load_agent(settings.agent)
        self.tasks: dict[str, Task | Broken] = {t.id: t for t in self.suite.tasks}
        self.tasks.update({b.id: b for b in self.suite.broken})
        self.locks: dict[str, asyncio.Lock] = {}

    async def run(self, job: Job) -> TaskResult:
        """The job's result; never raises but for cancellation."""
        task = self.tasks[job.task_id]
        started = time.monotonic()
        if isinstance(task, Broken):
            return self._result(job, task.kind, started, error=error("malformed", str(task.error)))
        tries = 0
        while True:
            attempt = self._attempt(task, job)
            try:
                return await self._once(attempt, job, started, tries)
            except MalformedTask as exc:
                return self._result(job, task.kind, started, error=error("malformed", str(exc)))
            except InfraError as exc:
                if not exc.retry or tries >= self.settings.retries:
                    return self._result(
                        job, task.kind, started, retries=tries, error=error("infra", str(exc))
                    )
                tries += 1
            finally:
                if not self.settings.keep:
                    await asyncio.to_thread(_remove, attempt.root)

    def _attempt(self, task: Task, job: Job) -> Attempt:
        s = self.settings
        root = s.output / "work" / task.id / str(job.attempt)
        if root.exists():  # left by a process that was killed: start afresh
            shutil.rmtree(root)
        try:
            root.mkdir(parents=True)
        except FileNotFoundError:  # its task's folder was removed as it was made
            root.mkdir(parents=True)
        return Attempt(
            task,
            job.attempt,
            root,
            s.home,
            self.cache,
            s.backend,
            s.image,
            s.level,
            s.limits,
            self.locks,
        )

    async def _once(self, attempt: Attempt, job: Job, started: float, tries: int) -> TaskResult:
        task, kind = attempt.task, KINDS[attempt.task.kind]
        ws: Workspace
        ws, reference = await _infra(
            kind.prepare(attempt, task, sees_solution(self.agent)), "preparing the task"
        )
        agent_task = AgentTask(
            task.id,
            task.kind,
            ws.prompt or task.prompt,
            ws.workdir,
            ws.cwd,
            ws.sandbox,
            task.agent_timeout_s,
            self.settings.model,
            self.settings.home,
            attempt.limits_for(task.agent_timeout_s),
            reference if sees_solution(self.agent) else None,
            KIND_KITS[task.kind],
            shared=self.settings.output / "shared",
            attempt=job.attempt,
            test_command=task.test_cmd if isinstance(task, swe.SweTask) else None,
        )
        outcome, agent_error, agent_s = await self._solve(agent_task)
        verify_start = time.monotonic()
        verdict: Verdict = await _infra(kind.verify(attempt, task, ws), "verifying")
        verify_s = time.monotonic() - verify_start
        failure = agent_error or (error("verifier", verdict.error) if verdict.error else None)
        # What is judged is the work left, even by an agent that then failed or ran out of time.
        result = self._result(
            job,
            task.kind,
            started,
            error=failure,
            retries=tries,
            resolved=verdict.resolved,
            backend=ws.backend,
            notes=ws.notes + verdict.notes,
            reward=verdict.reward,
            agent_s=round(agent_s, 3),
            verify_s=round(verify_s, 3),
        )
        if outcome is not None:
            result.steps, result.run_id = outcome.steps, outcome.run_id
            result.input_tokens, result.output_tokens = (
                outcome.input_tokens,
                outcome.output_tokens,
            )
            result.cost_usd = outcome.cost_usd
        if verdict.prediction is not None and isinstance(task, swe.SweTask):
            result.prediction, result.instance_id = verdict.prediction, task.instance_id
        result.log = self._log(job, ws, agent_task, outcome, agent_error, verdict)
        return result

    async def _solve(
        self, task: AgentTask
    ) -> tuple[AgentOutcome | None, dict[str, str] | None, float]:
        start = time.monotonic()
        try:
            async with asyncio.timeout(task.timeout_s):
                outcome = await self.agent.solve(task)
            return outcome, None, time.monotonic() - start
        except TimeoutError:
            return (
                None,
                error(
                    "timeout",
                    f"the agent ran past its {task.timeout_s:g} s (task.toml [agent] timeout_sec)",
                ),
                task.timeout_s,
            )
        except Exception as exc:
            where = "".join(traceback.format_exception(exc)[-3:]).strip()
            return (
                None,
                error("agent", f"{type(exc).__name__}: {exc}\n{where}"),
                time.monotonic() - start,
            )

    def _result(self, job: Job, kind: str | None, started: float, **values: Any) -> TaskResult:
        return TaskResult(
            job.task_id,
            kind,
            job.attempt,
            agent=getattr(self.agent, "name", None),
            model=self.settings.model,
            wall_s=round(time.monotonic() - started, 3),
            **values,
        )

    def _log(
        self,
        job: Job,
        ws: Workspace,
        task: AgentTask,
        outcome: AgentOutcome | None,
        agent_error: dict[str, str] | None,
        verdict: Verdict,
    ) -> str:
        """The attempt's log file (relative to the output dir)."""
        rel = Path("logs") / f"{job.task_id}.{job.attempt}.log"
        path = self.settings.output / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        said = agent_error["message"] if agent_error else (outcome.answer if outcome else None)
        path.write_text(
            "\n".join(
                [
                    f"task {job.task_id} ({task.kind}), attempt {job.attempt}, "
                    f"backend {ws.backend}",
                    *(f"note: {n}" for n in ws.notes + verdict.notes),
                    f"--- agent {getattr(self.agent, 'name', '?')}: "
                    f"{'run ' + outcome.run_id if outcome and outcome.run_id else ''}",
                    said or "(nothing said)",
                    f"--- verification: {'resolved' if verdict.resolved else 'not resolved'}"
                    + (f" ({verdict.error})" if verdict.error else ""),
                    verdict.log,
                    "",
                ]
            ),
            encoding="utf-8",
        )
        return str(rel)


def _remove(root: Path) -> None:
    """An attempt's folder, and its task's once empty (another attempt may be making it
    again: `_attempt` retries)."""
    shutil.rmtree(root, ignore_errors=True)
    with contextlib.suppress(OSError):
        root.parent.rmdir()


async def _infra(step: Awaitable[T], what: str) -> T:
    """A step of the harness: a failure that is neither the task's (MalformedTask) nor already
    named (InfraError) is an infrastructure error, retried."""
    try:
        return await step
    except (MalformedTask, InfraError):
        raise
    except Exception as exc:
        raise InfraError(f"{what} failed: {type(exc).__name__}: {exc}") from exc


async def run_benchmark(
    settings: Settings,
    engine: Engine,
    on_start: Callable[[Job], None] | None = None,
    on_result: Callable[[TaskResult], None] | None = None,
    on_begin: Callable[[int, list[TaskResult]], None] | None = None,
) -> list[TaskResult]:
    """Run what is left of the benchmark (`settings.repeat` attempts at every task of the
    suite, less those the output dir has results for) and return every result."""
    if settings.repeat < 1:
        raise ConfigError("--repeat must be at least 1")
    suite = load_suite(settings.suite, skip=(settings.output,))
    load_agent(settings.agent)  # a wrong agent fails here, before anything is written
    if settings.output.resolve().is_relative_to(settings.home.resolve()):
        raise ConfigError(
            f"the output dir {settings.output} is inside OpenSage's home, which "
            "no task may reach; give another --output"
        )
    check_meta(settings.output, settings.meta())
    file = ResultsFile(settings.output)
    wanted = {(i, k) for i in suite.ids for k in range(settings.repeat)}
    done = [r for r in file.load() if r.key in wanted]
    prune_predictions(settings.output, done)
    seen = {r.key for r in done}
    jobs = [Job(i, k) for k in range(settings.repeat) for i in suite.ids if (i, k) not in seen]
    results = list(done)
    if on_begin is not None:
        on_begin(len(wanted), done)

    class Report:
        def started(self, job: Job) -> None:
            if on_start is not None:
                on_start(job)

        def finished(self, result: TaskResult) -> None:
            write_prediction(settings.output, result)
            file.append(result)
            results.append(result)
            if on_result is not None:
                on_result(result)

    await engine.run(jobs, settings, Report())
    return sorted(results, key=lambda r: r.key)
