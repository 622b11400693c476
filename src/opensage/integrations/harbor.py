"""OpenSage agents in Harbor, the Terminal-Bench 2.0 harness (the `harbor` package, Python 3.12
or newer):

    harbor run -d terminal-bench@2.0 --agent opensage.integrations.harbor:OpenSageAgent \\
        -m anthropic/claude-sonnet-4-5 --ak max_steps=80

(`--agent-import-path` is the older spelling of `--agent` with an import path.) Each trial runs
an OpenSage `Agent` whose commands go through the trial's environment (`EnvironmentSandbox`
over `environment.exec`): the task's container, with the task's network policy and resources.
Its kits are `shell` (run_command) and `files` (read_file, write_file, list_files) working in
that container (`SandboxFilesKit`); `--ak kits='["shell","files","topology"]'` chooses others
among those whose tools do not act on host files. The run is recorded in OpenSage's home
(`opensage runs show RUN_ID`, RUN_ID in the trial's agent metadata); its tokens and cost fill
Harbor's `AgentContext` as each model call ends, so a trial that times out still reports them.

Harbor's model names (`openai/gpt-4o`, `anthropic/claude-...`) become OpenSage's model specs
(`openai:gpt-4o`, `anthropic:claude-...`); an OpenSage spec (`local:qwen-0.5b`,
`scripted:FILE.json`, a profile of opensage.toml) is passed as it is. An OpenAI-compatible
server is `openai/MODEL` with OPENAI_BASE_URL set, as for Harbor's own agents.

Only this module imports Harbor, and only when `OpenSageAgent` is first asked for: the rest of
OpenSage, and this module itself, import without it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from opensage.agent import Agent
from opensage.errors import ConfigError
from opensage.integrations.environment import EnvironmentSandbox
from opensage.integrations.sandbox_files import SandboxFilesKit
from opensage.kits import Kit
from opensage.version import __version__

# Kits whose tools act through the sandbox or on the agent itself, never on host files (the
# `swe` and `security` kits edit and build files in the host work dir, which here is empty).
# Of topology, sub-agents work in the one environment; an ensemble's members, which would each
# work on a copy of the work dir, are refused their commands (a trial has one container).
KITS = ("shell", "files", "topology", "memory")
DEFAULT_KITS = ("shell", "files")
PROVIDERS = {"openai": "openai", "anthropic": "anthropic"}

INSTRUCTIONS = """\
You are working on a task in a Linux environment (a container). Your work directory is {cwd},
where the task's files are. Do the task with the tools you have: run commands with
run_command, read and write files with read_file and write_file (paths relative to {cwd}, or
absolute). Check your work (run it, test it) before you finish: the task is graded by tests
run in this environment afterwards, on what you leave there. When done, call finish with a
short summary of what you did."""


def opensage_model(model_name: str | None) -> str | None:
    """The OpenSage model spec for a Harbor model name; None leaves OpenSage's default."""
    if not model_name:
        return None
    provider, slash, model = model_name.partition("/")
    if ":" in provider or not slash:  # already an OpenSage spec, or a profile's name
        return model_name
    if provider in PROVIDERS:
        return f"{PROVIDERS[provider]}:{model}"
    raise ConfigError(
        f"the OpenSage agent cannot reach the model {model_name!r}: its provider "
        f"{provider!r} is neither openai nor anthropic. For an OpenAI-compatible server use "
        f"openai/{model} with OPENAI_BASE_URL and OPENAI_API_KEY set, or give an OpenSage "
        "model spec (openai:MODEL, anthropic:MODEL, local:NAME, a profile of opensage.toml)"
    )


def agent_kits(kits: Sequence[str]) -> list[str | Kit]:
    """The kits asked for, with `files` as the one that works in the environment."""
    unknown = [k for k in kits if k not in KITS]
    if unknown:
        raise ConfigError(
            f"the OpenSage agent in Harbor cannot use the kit {unknown[0]!r}: its tools "
            "act on files of the host, and the task's files are in the environment. "
            f"Choose among {', '.join(KITS)}"
        )
    return [SandboxFilesKit() if k == "files" else k for k in kits]


def _agent_class() -> type:
    """OpenSageAgent, a subclass of Harbor's BaseAgent, made when first asked for (see the
    module's `__getattr__`): importing this module needs no Harbor, as every module of OpenSage
    imports on its own, and a missing Harbor is said when the agent is wanted."""
    try:
        from harbor.agents.base import BaseAgent
        from harbor.environments.base import BaseEnvironment
        from harbor.models.agent.context import AgentContext
    except ModuleNotFoundError as exc:
        raise ImportError(
            f"OpenSageAgent runs in Harbor, which is not installed here ({exc}). Install it "
            "with OpenSage in a Python 3.12 or newer environment: pip install harbor "
            "(scripts/setup-harbor.sh does it in .venv-harbor)"
        ) from exc

    class OpenSageAgent(BaseAgent):
        """An OpenSage agent as a Harbor agent. Options (`--ak NAME=VALUE`): `kits` (a list),
        `max_steps`, `max_cost_usd`, `max_seconds`, `instructions` (replacing the default; `{cwd}`
        stands for the environment's work dir) and `home` (OpenSage's home, where runs are
        recorded; default OPENSAGE_HOME, else ~/.opensage)."""

        def __init__(
            self,
            logs_dir: Path,
            model_name: str | None = None,
            *args: Any,
            kits: Sequence[str] = DEFAULT_KITS,
            max_steps: int | None = None,
            max_cost_usd: float | None = None,
            max_seconds: float | None = None,
            instructions: str | None = None,
            home: str | None = None,
            **kwargs: Any,
        ):
            super().__init__(logs_dir, model_name, *args, **kwargs)
            self.model_spec = opensage_model(model_name)  # a wrong name fails before any trial
            self.kit_names = list(kits)
            agent_kits(self.kit_names)
            self.max_steps = max_steps
            self.max_cost_usd = max_cost_usd
            self.max_seconds = max_seconds
            self.instructions = instructions or INSTRUCTIONS
            self.home = home

        @staticmethod
        def name() -> str:
            return "opensage"

        def version(self) -> str:
            return __version__

        async def setup(self, environment: BaseEnvironment) -> None:
            """Nothing to install: OpenSage runs here, only its commands run in the environment."""

        async def run(
            self, instruction: str, environment: BaseEnvironment, context: AgentContext
        ) -> None:
            cwd = environment.task_env_config.workdir or await _working_dir(environment)
            with tempfile.TemporaryDirectory(prefix="opensage-harbor-") as anchor:
                agent = Agent(
                    "opensage",
                    self.instructions.replace("{cwd}", cwd),
                    model=self.model_spec,
                    kits=agent_kits(self.kit_names),
                    sandbox=EnvironmentSandbox(environment, anchor=Path(anchor), cwd=cwd),
                    max_steps=self.max_steps,
                    max_cost_usd=self.max_cost_usd,
                    max_seconds=self.max_seconds,
                    home=self.home,
                )
                counter = UsageCounter(context)
                result = await agent.run(instruction, workdir=anchor, on_event=counter.on_event)
            usage = result.usage
            context.n_input_tokens = usage.input_tokens
            context.n_output_tokens = usage.output_tokens
            context.cost_usd = usage.cost_usd
            context.metadata = {
                **(context.metadata or {}),
                "opensage_run_id": result.run_id,
                "stop_reason": result.stop_reason,
                "message": result.message,
                "steps": result.steps,
                "answer": result.answer,
                "unpriced_requests": usage.unpriced,
            }

    OpenSageAgent.__module__ = __name__  # where Harbor's import path finds it
    OpenSageAgent.__qualname__ = "OpenSageAgent"
    return OpenSageAgent


_made: dict[str, type] = {}


def __getattr__(name: str) -> type:
    if name != "OpenSageAgent":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _made:
        _made[name] = _agent_class()
    return _made[name]


class UsageCounter:
    """Fills an `AgentContext` from a run's model responses as they come (the run's sub-agents'
    too), so that a trial Harbor stops at its timeout still reports what was spent."""

    def __init__(self, context: Any):  # Harbor's AgentContext
        self.context = context
        context.n_input_tokens = context.n_input_tokens or 0
        context.n_output_tokens = context.n_output_tokens or 0
        context.cost_usd = context.cost_usd or 0.0

    def on_event(self, kind: str, agent: str | None, data: dict[str, Any]) -> None:
        c = self.context
        if kind != "model_response":
            return
        usage = data["usage"]
        c.n_input_tokens = (c.n_input_tokens or 0) + usage["input_tokens"]
        c.n_output_tokens = (c.n_output_tokens or 0) + usage["output_tokens"]
        c.cost_usd = (c.cost_usd or 0.0) + usage["cost_usd"]
        if c.model_usage is None:
            c.model_usage = {}
        model = data.get("model") or "?"
        if model not in c.model_usage:
            from harbor.models.agent.context import ModelUsage

            c.model_usage[model] = ModelUsage()
        per_model = c.model_usage[model]
        per_model.n_input_tokens += usage["input_tokens"]
        per_model.n_output_tokens += usage["output_tokens"]
        per_model.cost_usd = (per_model.cost_usd or 0.0) + usage["cost_usd"]


async def _working_dir(environment: Any) -> str:
    """The environment's working directory (the image's WORKDIR) when the task names none."""
    result = await environment.exec("pwd")
    return (result.stdout or "").strip() or "/"
