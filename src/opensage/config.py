"""Configuration: `opensage.toml` in OPENSAGE_HOME, then one in the current directory, then
environment variables, then command-line flags (each overriding the one before).

    default_model = "fast"            # a profile name or a model spec

    [limits]
    max_steps = 50
    max_cost_usd = 2.0
    max_tokens = 2_000_000
    max_seconds = 1800

    [models.fast]                      # a profile: --model fast
    spec = "openai:gpt-5-mini"
    base_url = "https://..."           # optional
    api_key_env = "MY_PROVIDER_KEY"    # optional: read the key from this variable
    timeout_s = 60

    [prices]                           # USD per million tokens (input, output)
    "my-model" = [0.2, 0.8]

    [topology]                         # the agents a model creates (see TopologySettings)
    max_depth = 3
    models = ["openai:gpt-5-mini"]     # specs sub-agents may use besides the creator's

    [mcp.servers.files]                # tools of MCP servers: a command over stdio...
    command = "npx"
    args = ["-y", "@modelcontextprotocol/server-filesystem", "."]
    [mcp.servers.search]               # ...or a streamable-HTTP URL
    url = "http://127.0.0.1:8000/mcp"

    [memory]
    url = "postgresql://user@db/opensage"  # default: $OPENSAGE_HOME/memory.db (SQLite)
    curate = true                      # at a run's end, the model draws facts and procedures
    embedder = "auto"                  # auto | minilm | none: vectors (the `vectors` extra)

    [sandbox]                          # where commands run on the model's behalf
    backend = "bwrap"                  # bwrap | container | local | auto (the default)
    image = "opensage-sandbox:latest"  # for the container backend
    [sandbox.limits]                   # see opensage.sandbox.SandboxLimits
    memory_mb = 4096
    processes = 256

Environment: OPENSAGE_HOME, OPENSAGE_MODEL, OPENSAGE_MAX_STEPS, OPENSAGE_MAX_COST_USD,
OPENSAGE_MAX_TOKENS, OPENSAGE_MAX_SECONDS.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from opensage.core.budget import Limits
from opensage.mcp import McpServer
from opensage.models.base import ConfigError
from opensage.sandbox.base import SandboxLimits

CONFIG_NAME = "opensage.toml"
DEFAULT_LIMITS = Limits(max_steps=50)
DEFAULT_OPENAI_MODEL = "openai:gpt-5-mini"
DEFAULT_ANTHROPIC_MODEL = "anthropic:claude-sonnet-4-6"


def opensage_home() -> Path:
    return Path(os.environ.get("OPENSAGE_HOME") or "~/.opensage").expanduser()


@dataclass(frozen=True)
class ModelProfile:
    spec: str
    base_url: str | None = None
    api_key_env: str | None = None
    timeout_s: float | None = None


@dataclass
class Config:
    home: Path
    default_model: str | None = None
    limits: Limits = DEFAULT_LIMITS
    profiles: dict[str, ModelProfile] = field(default_factory=dict)
    prices: dict[str, tuple[float, float]] = field(default_factory=dict)
    sandbox_backend: str | None = None  # None: the best available
    sandbox_image: str | None = None
    sandbox_limits: SandboxLimits = field(default_factory=SandboxLimits)
    topology: dict[str, Any] = field(default_factory=dict)  # [topology]: TopologySettings
    mcp_servers: list[McpServer] = field(default_factory=list)  # [mcp.servers.NAME]
    memory_url: str | None = None  # [memory] url: a postgresql:// URL; default: a SQLite file
    memory_curate: bool = False  # [memory] curate: draw facts and procedures with the model
    memory_embedder: str = "auto"  # [memory] embedder: auto | minilm | none (keywords only)
    sources: list[Path] = field(default_factory=list)  # the files that were read

    @property
    def events_path(self) -> Path:
        return self.home / "events.db"

    @property
    def memory_location(self) -> str | Path:
        return self.memory_url or self.home / "memory.db"

    def default_model_spec(self) -> str:
        """No model asked for: the configured one, else a hosted one whose key is set, else the
        bundled local model (so a fresh machine with no network works)."""
        if self.default_model:
            return self.default_model
        if os.environ.get("OPENAI_API_KEY"):
            return DEFAULT_OPENAI_MODEL
        if os.environ.get("ANTHROPIC_API_KEY"):
            return DEFAULT_ANTHROPIC_MODEL
        return "local"


def load_config(cwd: Path | None = None, home: Path | None = None) -> Config:
    config = Config(home=home or opensage_home())
    for path in (config.home / CONFIG_NAME, (cwd or Path.cwd()) / CONFIG_NAME):
        if path.is_file():
            _apply_file(config, path)
    _apply_env(config)
    return config


def _apply_file(config: Config, path: Path) -> None:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    config.sources.append(path)
    if "default_model" in data:
        config.default_model = str(data["default_model"])
    if "limits" in data:
        config.limits = config.limits.merged(_limits(data["limits"], str(path)))
    for name, profile in (data.get("models") or {}).items():
        if not isinstance(profile, dict) or "spec" not in profile:
            raise ConfigError(f"{path}: [models.{name}] needs a spec, e.g. spec = \"openai:NAME\"")
        unknown = set(profile) - {"spec", "base_url", "api_key_env", "timeout_s"}
        if unknown:
            raise ConfigError(f"{path}: [models.{name}] has unknown keys: {sorted(unknown)}")
        config.profiles[name] = ModelProfile(**profile)
    if "sandbox" in data:
        _apply_sandbox(config, data["sandbox"], str(path))
    if "topology" in data:
        config.topology.update(data["topology"])
    if (data.get("memory") or {}).get("url"):
        config.memory_url = str(data["memory"]["url"])
    if "curate" in (data.get("memory") or {}):
        config.memory_curate = bool(data["memory"]["curate"])
    if "embedder" in (data.get("memory") or {}):
        config.memory_embedder = str(data["memory"]["embedder"]).lower()
        if config.memory_embedder not in ("auto", "minilm", "none"):
            raise ConfigError(f"{path}: [memory] embedder must be auto, minilm or none, not "
                              f"{data['memory']['embedder']!r}")
    for name, table in ((data.get("mcp") or {}).get("servers") or {}).items():
        config.mcp_servers.append(McpServer.from_table(name, table))
    for model, price in (data.get("prices") or {}).items():
        if not (isinstance(price, list) and len(price) == 2):
            raise ConfigError(f"{path}: prices.{model} must be [input, output] USD per Mtok")
        config.prices[model] = (float(price[0]), float(price[1]))


def _apply_sandbox(config: Config, table: Any, where: str) -> None:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [sandbox] must be a table")
    unknown = set(table) - {"backend", "image", "limits"}
    if unknown:
        raise ConfigError(f"{where}: [sandbox] has unknown keys: {sorted(unknown)}")
    if "backend" in table:
        config.sandbox_backend = str(table["backend"])
    if "image" in table:
        config.sandbox_image = str(table["image"])
    limits = table.get("limits", {})
    known = set(SandboxLimits.__slots__)
    if set(limits) - known:
        raise ConfigError(f"{where}: unknown [sandbox.limits] {sorted(set(limits) - known)}; "
                          f"known: {sorted(known)}")
    config.sandbox_limits = replace(config.sandbox_limits, **limits)


def _limits(table: Any, where: str) -> Limits:
    if not isinstance(table, dict):
        raise ConfigError(f"{where}: [limits] must be a table")
    known = {"max_steps": int, "max_tokens": int, "max_cost_usd": float, "max_seconds": float}
    unknown = set(table) - set(known)
    if unknown:
        raise ConfigError(f"{where}: unknown limits {sorted(unknown)}; known: {sorted(known)}")
    try:
        return Limits(**{k: known[k](v) for k, v in table.items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: bad limit value: {exc}") from exc


def _apply_env(config: Config) -> None:
    if os.environ.get("OPENSAGE_MODEL"):
        config.default_model = os.environ["OPENSAGE_MODEL"]
    env = {k: os.environ[f"OPENSAGE_{k.upper()}"]
           for k in ("max_steps", "max_tokens", "max_cost_usd", "max_seconds")
           if os.environ.get(f"OPENSAGE_{k.upper()}")}
    if env:
        config.limits = config.limits.merged(_limits(env, "environment"))
