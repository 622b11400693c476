"""Configuration: `opensage.toml` in OPENSAGE_HOME, then one in the current directory, then
environment variables, then command-line flags and Python arguments (each overriding the one
before). Each file is checked whole before any of it is used: a wrong type, a value out of
range or an unknown key is a ConfigError naming the file and the key.

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

    [telemetry]                        # runs as OpenTelemetry traces (the telemetry extra)
    endpoint = "http://localhost:4318" # an OTLP/HTTP collector (its base URL)
    headers = { authorization = "Bearer ..." }

    [sandbox]                          # where commands run on the model's behalf
    backend = "bwrap"                  # bwrap | container | local | auto (the default)
    image = "opensage-sandbox:latest"  # for the container backend
    [sandbox.limits]                   # see opensage.sandbox.SandboxLimits
    memory_mb = 4096
    processes = 256

Environment: OPENSAGE_HOME, OPENSAGE_MODEL, OPENSAGE_MAX_STEPS, OPENSAGE_MAX_COST_USD,
OPENSAGE_MAX_TOKENS, OPENSAGE_MAX_SECONDS; and OpenTelemetry's own OTEL_EXPORTER_OTLP_ENDPOINT
(and _HEADERS), read by opensage.telemetry when [telemetry] sets no endpoint.

Trust. A run's commands and tools write its work dir, which is usually the current directory:
`./opensage.toml` may have been written by a model rather than by the user, and must not be
able to take over the next run. So:

- Trusted: `$OPENSAGE_HOME/opensage.toml`, the environment, command-line flags and Python
  arguments. A run can neither read nor write OPENSAGE_HOME, even when the home lies inside its
  work dir (a run in $HOME with the home ~/.opensage): the files kit refuses every path in it
  and the sandbox hides it. (The `local` sandbox backend isolates nothing: with it, a run can
  write anything the user can.)
- `./opensage.toml` (unless it is the home's own) may set only what cannot run a program on
  this machine, choose or loosen the sandbox, or send credentials or data elsewhere:
  `default_model` (a spec, or a profile of a trusted file), `[limits]`, `[prices]`,
  `[topology]`, `[memory] curate` and `embedder`, and `[sandbox.limits]` that tighten the
  trusted ones. It is refused, with an error naming each key, if it sets `[mcp.servers]`
  (programs started on this machine, servers given the run's data), `[sandbox] backend` or
  `image`, `[models.*]` profiles (where requests and the API key named by `api_key_env` go),
  `[memory] url`, `[telemetry]` (where every run's trace is sent, with which headers), or
  loosens `[sandbox.limits]` (a higher limit, `network = true`)...
- ...unless the user trusts that file as it is now: `opensage config trust [PATH]` (or
  `trust_file`) records its path and the SHA-256 of its content in
  `$OPENSAGE_HOME/trusted.json`. Any change to the file ends the trust until it is given again.
- Budget settings (`default_model`, `[limits]`, `[prices]`) stay open to the project file: they
  can cost money but cannot escape the sandbox or leak a key; flags override them.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import tomllib
import types
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError

from opensage.core.budget import Limits
from opensage.core.db import StateError, check_folder
from opensage.errors import ConfigError
from opensage.mcp import McpServer
from opensage.sandbox.base import SandboxLimits

CONFIG_NAME = "opensage.toml"
TRUST_NAME = "trusted.json"  # {"files": {path: sha256 of the content trusted}}
DEFAULT_LIMITS = Limits(max_steps=50)
DEFAULT_OPENAI_MODEL = "openai:gpt-5-mini"
DEFAULT_ANTHROPIC_MODEL = "anthropic:claude-sonnet-4-6"
LIMIT_KEYS = ("max_steps", "max_tokens", "max_cost_usd", "max_seconds")


def opensage_home() -> Path:
    return Path(os.environ.get("OPENSAGE_HOME") or "~/.opensage").expanduser()


@dataclass(frozen=True)
class ModelProfile:
    spec: str
    base_url: str | None = None
    api_key_env: str | None = None
    timeout_s: float | None = None
    text_tool_calls: bool = False  # the endpoint returns tool calls as text: find them there


@dataclass
class TopologySettings:
    """[topology]: the agents a model creates (the topology kit's settings)."""

    max_depth: int = 3  # the root agent is depth 0
    max_live_agents: int = 16  # created in this run and not retired
    max_concurrent: int = 16  # sub-agent runs of the root at once (with what they start)
    default_max_steps: int = 30  # each sub-agent run, within what its ancestors have left
    models: list[str] = field(default_factory=list)  # further specs sub-agents may use


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
    topology: TopologySettings = field(default_factory=TopologySettings)
    mcp_servers: list[McpServer] = field(default_factory=list)  # [mcp.servers.NAME]
    memory_url: str | None = None  # [memory] url: a postgresql:// URL; default: a SQLite file
    memory_curate: bool = False  # [memory] curate: draw facts and procedures with the model
    memory_embedder: str = "auto"  # [memory] embedder: auto | minilm | none (keywords only)
    telemetry_endpoint: str | None = None  # [telemetry] endpoint: an OTLP/HTTP collector's URL
    telemetry_headers: dict[str, str] = field(default_factory=dict)  # sent with each export
    telemetry_service_name: str | None = None  # the traces' service.name (default: opensage)
    telemetry_timeout_s: float | None = None  # each export request's (default: 5 s)
    sources: list[Path] = field(default_factory=list)  # the files that were read

    # Where each piece of state lives under the home: named here once, used everywhere.

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_NAME  # the trusted configuration

    @property
    def trust_path(self) -> Path:
        return self.home / TRUST_NAME  # the project files the user trusts

    @property
    def events_path(self) -> Path:
        return self.home / "events.db"  # every run's event log

    @property
    def memory_path(self) -> Path:
        return self.home / "memory.db"  # the long-term memory, unless [memory] url says

    @property
    def memory_location(self) -> str | Path:
        return self.memory_url or self.memory_path

    @property
    def tools_path(self) -> Path:
        return self.home / "tools.db"  # the tools models wrote

    @property
    def agents_path(self) -> Path:
        return self.home / "agents.db"  # the agents models created

    @property
    def logs_path(self) -> Path:
        return self.home / "logs"  # models' own logs (the local model server's)

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
    config = load_trusted(home or opensage_home())
    project = _located((cwd or Path.cwd()) / CONFIG_NAME)
    if project.is_file() and project.parent != config.home.resolve():
        raw = _read(project)
        settings = _parse(raw, project)
        if not _trusted(project, raw, config):
            _refuse_privileged(project, settings, config)
        _apply(config, settings, project)
    _apply_env(config)
    return config


def load_trusted(home: Path) -> Config:
    """The configuration of the home's own file alone (no project file, no environment)."""
    check_folder(home, make=False)  # reading makes nothing; a home that is a file is an error
    config = Config(home=home)
    path = config.config_path
    if path.is_file():
        _apply(config, _parse(_read(path), path), path)
    return config


# --- trust --------------------------------------------------------------------------------------


def trust_file(path: Path, home: Path) -> dict[str, str]:
    """Trust the configuration file at `path` as it is now (checked first): until it changes,
    it may set what only a trusted file may. Returns those settings, each with what it does."""
    check_folder(home)
    path = _located(path)
    raw = _read(path)
    settings = _parse(raw, path)
    record = Config(home=home).trust_path
    trusted = _trust_records(record)
    trusted[str(path)] = hashlib.sha256(raw).hexdigest()
    temporary = record.with_name(f".{TRUST_NAME}.{os.getpid()}")
    try:
        temporary.write_text(json.dumps({"files": trusted}, indent=1) + "\n")
        os.replace(temporary, record)  # whole or not at all, even if this process dies
    except OSError as exc:
        raise StateError(
            f"cannot write {record} ({exc.strerror}): make {home} writable, or "
            "set OPENSAGE_HOME to a folder you can write"
        ) from None
    return privileged(settings, load_trusted(home).sandbox_limits)


def privileged(settings: Mapping[str, Any], trusted: SandboxLimits) -> dict[str, str]:
    """The settings (validated, as `_parse` returns them) that only a trusted file may make,
    each with what it would do; `trusted` are the sandbox limits they must not loosen."""
    found = {
        f"models.{name}": "chooses where model requests, with an API key, are sent"
        for name in settings.get("models", {})
    }
    for name in settings.get("mcp", {}).get("servers", {}):
        found[f"mcp.servers.{name}"] = (
            "starts a program on this machine, or connects to a server, outside the sandbox"
        )
    memory, sandbox = settings.get("memory", {}), settings.get("sandbox", {})
    if "url" in memory:
        found["memory.url"] = "sends what the memory holds to a database server"
    for key in settings.get("telemetry", {}):
        found[f"telemetry.{key}"] = "sends every run's trace to a collector"
    if "backend" in sandbox:
        found["sandbox.backend"] = "chooses where the model's commands run"
    if "image" in sandbox:
        found["sandbox.image"] = "chooses what the model's commands run in"
    for key, value in sandbox.get("limits", {}).items():
        before = getattr(trusted, key)
        if key == "network" and value and not before:
            found["sandbox.limits.network"] = "gives the model's commands the network"
        elif key != "network" and before is not None and value > before:
            found[f"sandbox.limits.{key}"] = f"raises a sandbox limit above {before}"
    return found


def _refuse_privileged(path: Path, settings: Mapping[str, Any], config: Config) -> None:
    found = privileged(settings, config.sandbox_limits)
    if found:
        raise ConfigError(
            f"{path} sets {', '.join(found)}, which a file in the current directory may set "
            "only once you trust it: runs, and so models, can write there, and "
            + "; ".join(f"{key} {why}" for key, why in found.items())
            + f". If you wrote this file, review it and run `opensage config trust {path}` "
            f"(trust ends when the file changes), or move these settings to "
            f"{config.config_path}"
        )


def _trusted(path: Path, raw: bytes, config: Config) -> bool:
    return _trust_records(config.trust_path).get(str(path)) == hashlib.sha256(raw).hexdigest()


def _trust_records(record: Path) -> dict[str, str]:
    try:
        data = json.loads(record.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise StateError(
            f"{record} cannot be read ({exc}); it lists the configuration files "
            "you trust. Move it aside and trust your files again"
        ) from None
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, dict):
        raise StateError(
            f"{record} is not a list of trusted files; move it aside and trust your files again"
        )
    return files


def _located(path: Path) -> Path:
    """An absolute path with its folders resolved but not the file itself: a symlink put in
    the file's place is not the file that was trusted."""
    path = path.expanduser().absolute()
    return path.parent.resolve() / path.name


# --- reading and checking a file ----------------------------------------------------------------


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None


def _parse(raw: bytes, path: Path) -> dict[str, Any]:
    """The file's settings, checked whole: a ConfigError names every key that is wrong."""
    try:
        data = tomllib.loads(raw.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return _validated(_file_schema(), data, str(path))


def _validated(
    schema: type[BaseModel], data: Any, where: str, strict: bool = True
) -> dict[str, Any]:
    try:
        return schema.model_validate(data, strict=strict).model_dump(exclude_unset=True)
    except ValidationError as exc:
        raise ConfigError("\n".join(_problem(e, where) for e in exc.errors())) from None


EXPECTED = {
    "int": "must be a whole number",
    "float": "must be a number",
    "bool": "must be true or false",
    "string": "must be text (in quotes)",
    "dict": "must be a table",
    "model": "must be a table",
    "list": "must be a list",
}
HINTS = {
    "prices": "a price is [input, output], in USD per million tokens",
    "models": 'a profile is e.g. [models.fast] spec = "openai:NAME"',
}


def _problem(error: ErrorDetails, where: str) -> str:
    """One line for one validation error: `where: key: what is expected, got what`."""
    kind, ctx = error["type"], error.get("ctx", {})
    got = repr(error["input"])
    got = f", got {got if len(got) <= 60 else got[:57] + '...'}"
    if kind == "missing":
        what, got = "is missing", ""
    elif kind.partition("_")[0] in EXPECTED and kind.endswith(("_type", "_parsing", "_from_float")):
        what = EXPECTED[kind.partition("_")[0]]
    elif kind == "greater_than_equal":
        what = f"must be at least {ctx['ge']:g}"
    elif kind == "greater_than":
        what = f"must be more than {ctx['gt']:g}"
    elif kind == "literal_error":
        what = f"must be {ctx['expected']}"
    elif kind in ("too_short", "too_long"):
        what = f"must have {ctx.get('min_length', ctx.get('max_length'))} items"
    else:  # our own checks (unknown keys, command or url), already phrased for people
        what, got = error["msg"], ""
    key = ".".join(str(part) for part in error["loc"])
    hint = HINTS.get(str(error["loc"][0])) if error["loc"] else None
    return f"{where}: {key + ': ' if key else ''}{what}{got}" + (f" ({hint})" if hint else "")


class _Table(BaseModel):
    """A TOML table: each value of its declared type exactly (no "5" for 5), no unknown key."""

    model_config = ConfigDict(strict=True, extra="allow")

    @model_validator(mode="after")
    def _known_keys_only(self) -> _Table:
        unknown = sorted(self.model_extra or {})
        if unknown:
            raise PydanticCustomError(
                "unknown_key",
                "unknown {what} {unknown}; known: {known}",
                {
                    "what": "setting" if len(unknown) == 1 else "settings",
                    "unknown": ", ".join(unknown),
                    "known": ", ".join(type(self).model_fields),
                },
            )
        return self


class _Profile(_Table):
    spec: str
    base_url: str | None = None
    api_key_env: str | None = None
    timeout_s: Annotated[float, Field(gt=0)] | None = None
    text_tool_calls: bool = False


class _McpServer(_Table):
    command: str | None = None
    args: list[str] = []
    env: dict[str, str] = {}
    url: str | None = None

    @model_validator(mode="after")
    def _command_or_url(self) -> _McpServer:
        if (self.command is None) == (self.url is None):
            raise PydanticCustomError(
                "command_or_url", "needs either command (with args, env) or url"
            )
        return self


class _Mcp(_Table):
    servers: dict[str, _McpServer] = {}


class _Telemetry(_Table):
    endpoint: str | None = None
    headers: dict[str, str] = {}
    service_name: str | None = None
    timeout_s: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _an_http_url(self) -> _Telemetry:
        if self.endpoint is not None and not self.endpoint.startswith(("http://", "https://")):
            raise PydanticCustomError(
                "endpoint",
                "endpoint must be an http:// or https:// URL "
                "(an OTLP/HTTP collector, e.g. http://localhost:4318)",
            )
        return self


class _Memory(_Table):
    url: str | None = None
    curate: bool | None = None
    embedder: (
        Annotated[
            Literal["auto", "minilm", "none"],
            BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v),
        ]
        | None
    ) = None


@functools.cache
def _file_schema() -> type[BaseModel]:
    """What an opensage.toml may hold. [limits], [sandbox.limits] and [topology] follow the
    dataclasses they fill, so a setting added there is known here too."""
    price = Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=2, max_length=2)]
    sandbox: dict[str, Any] = {
        "backend": (Literal["bwrap", "container", "local", "auto"] | None, None),
        "image": (str | None, None),
        "limits": (_table_of(SandboxLimits) | None, None),
    }
    tables: dict[str, Any] = {
        "default_model": (str | None, None),
        "limits": (_table_of(Limits) | None, None),
        "models": (dict[str, _Profile], {}),
        "prices": (dict[str, price], {}),
        "topology": (_table_of(TopologySettings, max_depth=0) | None, None),
        "mcp": (_Mcp | None, None),
        "memory": (_Memory | None, None),
        "telemetry": (_Telemetry | None, None),
        "sandbox": (create_model("sandbox", __base__=_Table, **sandbox) | None, None),
    }
    return create_model("opensage.toml", __base__=_Table, **tables)


@functools.cache
def _table_of(cls: type, **minimum: int) -> type[_Table]:
    """A table of the fields of the dataclass `cls`, each optional: whole numbers at least 1
    (or `minimum[field]`: a negative limit must not pass for "unlimited"), numbers above 0."""
    hints = get_type_hints(cls)
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        kind = _without_none(hints[f.name])
        if kind is int:
            kind = Annotated[int, Field(ge=minimum.get(f.name, 1))]
        elif kind is float:
            kind = Annotated[float, Field(gt=0)]
        fields[f.name] = (kind | None, None)
    return create_model(cls.__name__, __base__=_Table, **fields)


def _without_none(kind: Any) -> Any:
    """`int | None` -> int (TOML has no null); any other type as it is."""
    if get_origin(kind) in (Union, types.UnionType):
        rest = [k for k in get_args(kind) if k is not type(None)]
        return rest[0] if len(rest) == 1 else kind
    return kind


# --- applying -----------------------------------------------------------------------------------


def _apply(config: Config, settings: Mapping[str, Any], path: Path) -> None:
    """Layer a checked file's settings over `config`."""
    config.sources.append(path)
    if "default_model" in settings:
        config.default_model = settings["default_model"]
    if "limits" in settings:
        config.limits = config.limits.merged(Limits(**settings["limits"]))
    for name, profile in settings.get("models", {}).items():
        config.profiles[name] = ModelProfile(**profile)
    for name, (cost_in, cost_out) in settings.get("prices", {}).items():
        config.prices[name] = (cost_in, cost_out)
    config.topology = replace(config.topology, **settings.get("topology", {}))
    for name, server in settings.get("mcp", {}).get("servers", {}).items():
        config.mcp_servers.append(McpServer(name=name, **server))
    memory = settings.get("memory", {})
    config.memory_url = memory.get("url") or config.memory_url
    config.memory_curate = memory.get("curate", config.memory_curate)
    config.memory_embedder = memory.get("embedder", config.memory_embedder)
    telemetry = settings.get("telemetry", {})
    config.telemetry_endpoint = telemetry.get("endpoint", config.telemetry_endpoint)
    config.telemetry_headers = {**config.telemetry_headers, **telemetry.get("headers", {})}
    config.telemetry_service_name = telemetry.get("service_name", config.telemetry_service_name)
    config.telemetry_timeout_s = telemetry.get("timeout_s", config.telemetry_timeout_s)
    sandbox = settings.get("sandbox", {})
    config.sandbox_backend = sandbox.get("backend", config.sandbox_backend)
    config.sandbox_image = sandbox.get("image", config.sandbox_image)
    config.sandbox_limits = replace(config.sandbox_limits, **sandbox.get("limits", {}))


def _apply_env(config: Config) -> None:
    if os.environ.get("OPENSAGE_MODEL"):
        config.default_model = os.environ["OPENSAGE_MODEL"]
    for key in LIMIT_KEYS:  # one by one, so that an error names the variable
        name = f"OPENSAGE_{key.upper()}"
        if os.environ.get(name):
            value = _validated(_table_of(Limits), {key: os.environ[name]}, name, strict=False)
            config.limits = config.limits.merged(Limits(**value))
