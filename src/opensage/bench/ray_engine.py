"""The Ray engine: each attempt at a task runs as a Ray task, on any node of a Ray cluster.

`RayEngine` joins the cluster at `--ray-address` (or `RAY_ADDRESS`), or starts a local Ray on
this machine, and keeps at most `parallel` tasks in flight. Each Ray task declares the
resources it needs: the CPUs and memory its task.toml asks for (Harbor's `[environment] cpus`
and `memory_mb`), one CPU otherwise. As each ends, its result is reported through the same
`Events` as the local engine's, so it is appended to the same results file and a benchmark
interrupted on Ray resumes like any other.

A Ray task runs the same `Worker` as the local engine, on its node (`run_job`):
- the node's OpenSage home (its `OPENSAGE_HOME`, or `~/.opensage` there) is where the agent
  records its run, and the node's sandboxes run the task's commands: bubblewrap (and podman or
  docker for container tasks) must be installed on every node, as must OpenSage itself;
- the suite and an agent file (`--agent path.py:NAME`) are read at the same absolute paths as
  on the machine that started the benchmark: a shared file system, or the same checkout on
  every node;
- the attempt works in the output dir when the node sees it (this machine, a shared file
  system), else in a folder of the node's temporary directory;
- what the attempt leaves for the results comes back with its result: the attempt's log, and
  its recorded run (its event-log rows, `carry`), added to this machine's home, so that
  `opensage runs show RUN_ID` and the viewer open any task's run here.

A worker that dies (the process killed, its node lost) leaves no result: its task is sent
again, at most `retries` times (an infrastructure error after that), and only a result that
came back is recorded, so no task is counted twice. Ray itself never re-runs a task
(`max_retries=0`): the count stays the harness's.
"""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from hashlib import sha256
from pathlib import Path
from typing import Any

from opensage.bench.carry import RunRows, export_runs, import_runs
from opensage.bench.results import TaskResult, error
from opensage.bench.runner import Events, Job, Settings, Worker
from opensage.bench.suite import load_suite
from opensage.config import load_config
from opensage.errors import ConfigError

INSTALL = "pip install 'opensage[ray]'"
POLL_S = 1.0  # how long a wait for the next result lasts before the engine looks again


@dataclass
class Shipped:
    """What a Ray task sends back: the result, the attempt's log and its recorded run."""

    result: TaskResult
    log: str | None
    runs: RunRows


def ray_module() -> Any:
    """The `ray` package, or a ConfigError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(
            f"the ray engine needs the ray package: {INSTALL} (or use --engine local, with "
            "--parallel N to run N tasks at once)"
        ) from None
    return ray


class RayEngine:
    """Attempts as Ray tasks, at most `parallel` in flight."""

    name = "ray"

    def __init__(self, parallel: int = 1, address: str | None = None):
        if parallel < 1:
            raise ConfigError("--parallel must be at least 1")
        self.ray = ray_module()
        self.parallel = parallel
        self.address = address or os.environ.get("RAY_ADDRESS") or None

    async def run(self, jobs: Sequence[Job], settings: Settings, events: Events) -> None:
        if not jobs:
            return
        ray = self.ray
        started = self._join()
        try:
            await self._dispatch(jobs, _portable(settings), events)
        finally:
            if started:
                ray.shutdown()

    def _join(self) -> bool:
        """Join the cluster (or start a local Ray); True when this engine started it."""
        ray = self.ray
        if ray.is_initialized():
            return False
        options: dict[str, Any] = {"log_to_driver": False, "configure_logging": False}
        if self.address:
            options["address"] = self.address
        else:
            # A local Ray: as many CPUs as tasks asked to run at once, so that --parallel N
            # runs N sandbox-bound tasks at once on fewer cores, as the local engine does.
            options["num_cpus"] = max(self.parallel, os.cpu_count() or 1)
            options["include_dashboard"] = False
            # Started for the user: it reports nothing about them to Ray's makers unless they
            # said it may (Ray's own setting).
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            ray.init(**options)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {self.address}" if self.address else "a local Ray"
            raise ConfigError(
                f"cannot start or join {where}: {exc}; check --ray-address (or RAY_ADDRESS), "
                "or leave both unset to start a local Ray"
            ) from None
        return True

    async def _dispatch(self, jobs: Sequence[Job], settings: Settings, events: Events) -> None:
        ray = self.ray
        remote = ray.remote(max_retries=0)(run_job)
        total = _cluster_totals(ray)
        needs = _resources(settings)
        # (job, workers lost running it so far), popped from the end: in the order given
        waiting = [(job, 0) for job in reversed(jobs)]
        flying: dict[Any, tuple[Job, int]] = {}  # by the Ray task's object ref
        try:
            while waiting or flying:
                while waiting and len(flying) < self.parallel:
                    job, lost = waiting.pop()
                    asks = needs.get(job.task_id, {"num_cpus": 1})
                    too_much = _too_much(asks, total)
                    if too_much:
                        events.finished(_failed(job, settings, too_much, lost))
                        continue
                    if lost == 0:
                        events.started(job)
                    flying[remote.options(**asks).remote(settings, job)] = (job, lost)
                if not flying:
                    break
                done, _ = await asyncio.to_thread(
                    ray.wait, list(flying), num_returns=1, timeout=POLL_S
                )
                for ref in done:
                    job, lost = flying.pop(ref)
                    try:
                        shipped: Shipped = await asyncio.to_thread(ray.get, ref)
                    except ray.exceptions.RayTaskError as exc:  # run_job raised on its node
                        events.finished(_failed(job, settings, _cause(exc), lost))
                        continue
                    except ray.exceptions.RayError as exc:  # the worker or its node died
                        if lost < settings.retries:
                            waiting.append((job, lost + 1))
                        else:
                            why = f"the Ray worker running it died: {type(exc).__name__}"
                            events.finished(_failed(job, settings, why, lost))
                        continue
                    events.finished(_received(shipped, settings, lost))
        finally:
            for ref in flying:  # interrupted: stop what was running, record nothing of it
                ray.cancel(ref, force=True)


def _portable(settings: Settings) -> Settings:
    """The settings as every node reads them: an agent file by its absolute path."""
    file, colon, name = settings.agent.rpartition(":")
    if colon and file.endswith(".py"):
        return replace(settings, agent=f"{Path(file).resolve()}:{name}")
    return settings


def _resources(settings: Settings) -> dict[str, dict[str, Any]]:
    """What each task's Ray task declares: its task.toml's `[environment] cpus` and
    `memory_mb` (Harbor's fields) where it gives them, one CPU otherwise."""
    asks: dict[str, dict[str, Any]] = {}
    for task in load_suite(settings.suite, skip=(settings.output,)).tasks:
        env: dict[str, Any] = {}
        try:
            with open(task.path / "task.toml", "rb") as file:
                env = tomllib.load(file).get("environment") or {}
        except (OSError, tomllib.TOMLDecodeError):
            pass  # no task.toml (an SWE task), or the loader already said what is wrong
        cpus: Any = env.get("cpus")
        memory: Any = env.get("memory_mb")
        need: dict[str, Any] = {"num_cpus": cpus if _positive(cpus) else 1}
        if _positive(memory):
            need["memory"] = int(memory * 2**20)
        asks[task.id] = need
    return asks


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _cluster_totals(ray: Any) -> dict[str, float]:
    totals = ray.cluster_resources()
    return {"num_cpus": totals.get("CPU", 0.0), "memory": totals.get("memory", 0.0)}


def _too_much(asks: dict[str, Any], total: dict[str, float]) -> str | None:
    """Why no node could ever run a task asking for `asks` (Ray would wait for one forever)."""
    for key, unit, scale in (("num_cpus", "CPUs", 1), ("memory", "MB of memory", 2**20)):
        if key in asks and asks[key] > total[key]:
            return (
                f"the task asks for {asks[key] / scale:g} {unit} (task.toml [environment]) and "
                f"the whole Ray cluster has {total[key] / scale:g}: give it a bigger node"
            )
    return None


def _cause(exc: Exception) -> str:
    cause = getattr(exc, "cause", None) or exc
    return f"running it on its Ray node failed: {type(cause).__name__}: {cause}"


def _failed(job: Job, settings: Settings, why: str, lost: int) -> TaskResult:
    """The result of a job that brought no result back: an infrastructure error."""
    return TaskResult(
        job.task_id,
        None,
        job.attempt,
        error=error("infra", why),
        retries=lost,
        agent=settings.agent,
        model=settings.model,
    )


def _received(shipped: Shipped, settings: Settings, lost: int) -> TaskResult:
    """The result, its log and its run put where they belong on this machine."""
    result = shipped.result
    if shipped.log is not None and result.log:
        path = settings.output / result.log
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(shipped.log, encoding="utf-8")
    import_runs(load_config(home=settings.home).events_path, shipped.runs)
    if lost:
        result.retries += lost
        result.notes.append(f"the Ray worker running it died {lost} time(s); it was run again")
    return result


# --- on the worker's node ---------------------------------------------------------------------

_workers: dict[Settings, Worker] = {}
_loop: asyncio.AbstractEventLoop | None = None


def run_job(settings: Settings, job: Job) -> Shipped:
    """Run one job on this node (the body of a Ray task) and return what goes back."""
    global _loop
    local = _on_this_node(settings)
    worker = _workers.get(local)
    if worker is None:
        # A cache for each worker process: two processes never build into one folder at once
        # (the locks of a Worker are its process's), at the cost of a build per process.
        cache = local.output / "cache" / f"ray-{socket.gethostname()}-{os.getpid()}"
        worker = _workers[local] = Worker(local, cache=cache)
    if _loop is None:  # one loop for the process: a Worker's locks belong to it
        _loop = asyncio.new_event_loop()
    result = _loop.run_until_complete(worker.run(job))
    log = None
    if result.log:
        path = local.output / result.log
        log = path.read_text(encoding="utf-8") if path.is_file() else None
    runs = export_runs(
        load_config(home=local.home).events_path, [result.run_id] if result.run_id else []
    )
    return Shipped(result, log, runs)


def _on_this_node(settings: Settings) -> Settings:
    """The settings with this node's OpenSage home, and its place for the output when it
    does not see the benchmark's."""
    home = load_config().home.resolve()
    output = settings.output
    if not output.is_dir():
        digest = sha256(str(output).encode()).hexdigest()[:12]
        output = Path(tempfile.gettempdir()) / "opensage-bench" / f"{output.name}-{digest}"
        output.mkdir(parents=True, exist_ok=True)
    return replace(settings, home=home, output=output)
