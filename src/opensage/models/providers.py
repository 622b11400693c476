"""The provider registry: a model spec's prefix (`openai` in `openai:gpt-5`) names a factory.

`model_from_spec` knows no provider by name; it looks the prefix up here, so a provider added
without a factory is an error naming the known ones, never some other provider's model. The
built-in factories import their adapter only when called: an SDK costs a noticeable fraction of
a second to import, and a run uses one provider.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from opensage.errors import ConfigError
from opensage.models.base import Model
from opensage.models.pricing import Price, find_price
from opensage.models.retry import RetryPolicy
from opensage.models.scripted import ScriptedModel


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A model spec split at its first colon: `local` has the name "", `scripted:a:b.json` the
    name "a:b.json"."""

    text: str  # as written: "openai:gpt-5-mini"
    provider: str  # "openai"
    name: str  # "gpt-5-mini"

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        provider, _, name = text.partition(":")
        return cls(text, provider, name)

    def need_name(self) -> str:
        """The name, for a provider that cannot do without one."""
        if not self.name:
            raise ConfigError(f"model spec {self.text!r} needs a name: {self.provider}:NAME")
        return self.name


@dataclass(frozen=True, slots=True)
class ModelOptions:
    """What the caller adds to a spec (a profile's endpoint and key, the configured prices, the
    run's log folder). None means "not given": each factory picks its own default."""

    base_url: str | None = None
    api_key: str | None = None
    prices: Mapping[str, Price] | None = None
    timeout_s: float | None = None
    retry: RetryPolicy | None = None
    log_dir: Path | None = None
    # The endpoint returns tool calls as text (a server with no tool parser for the model):
    # find them there, and send the history back in the model's own format (see text_calls).
    text_tool_calls: bool = False

    def price(self, model: str) -> Price | None:
        """The model's price per million tokens, the configured prices first."""
        return find_price(model, self.prices)


ProviderFactory = Callable[[ModelSpec, ModelOptions], Model]

_PROVIDERS: dict[str, ProviderFactory] = {}


def register_provider(name: str, factory: ProviderFactory, *, replace: bool = False) -> None:
    """Make `name:...` specs build their model with `factory(spec, options)`.

    A name already registered is refused unless `replace=True`: two packages claiming one
    prefix would otherwise decide between them by import order, silently. Replacing is for
    wrapping a provider on purpose (e.g. to point `openai:` at a proxy)."""
    if not name or ":" in name:
        raise ConfigError(
            f"provider name {name!r} cannot be used in a model spec: it must be "
            "non-empty and have no colon, as in register_provider('myllm', ...)"
        )
    if name in _PROVIDERS and not replace:
        raise ConfigError(
            f"model provider {name!r} is already registered (by "
            f"{_qualname(_PROVIDERS[name])}); pass replace=True to replace it"
        )
    _PROVIDERS[name] = factory


def build_model(spec: str, options: ModelOptions) -> Model:
    """Build the model a spec names, through its provider's factory."""
    parsed = ModelSpec.parse(spec)
    factory = _PROVIDERS.get(parsed.provider)
    if factory is None:
        raise ConfigError(
            f"unknown model provider {parsed.provider!r} in {spec!r}; use one of: "
            + ", ".join(f"{p}:NAME" for p in _PROVIDERS)
        )
    return factory(parsed, options)


def _qualname(factory: ProviderFactory) -> str:
    named = factory if hasattr(factory, "__qualname__") else type(factory)  # a callable object
    return f"{named.__module__}.{named.__qualname__}"


def _openai(spec: ModelSpec, options: ModelOptions) -> Model:
    from opensage.models.openai_compat import OpenAIModel

    name = spec.need_name()
    base_url = options.base_url or os.environ.get("OPENAI_BASE_URL")
    api_key = options.api_key or os.environ.get("OPENAI_API_KEY")
    if not api_key and not base_url:
        raise ConfigError(
            f"{spec.text}: no API key. Set OPENAI_API_KEY, or OPENAI_BASE_URL / --base-url for "
            "a server that needs none (vLLM, llama.cpp, Ollama)."
        )
    model = OpenAIModel(
        name,
        base_url=base_url,
        api_key=api_key,
        timeout_s=options.timeout_s or 120.0,
        retry=options.retry,
        price=options.price(name),
        spec=spec.text,
    )
    if options.text_tool_calls:
        from opensage.models.text_calls import TextToolCalls

        return TextToolCalls(model)
    return model


def _anthropic(spec: ModelSpec, options: ModelOptions) -> Model:
    from opensage.models.anthropic import AnthropicModel

    name = spec.need_name()
    base_url = options.base_url or os.environ.get("ANTHROPIC_BASE_URL")
    api_key = options.api_key or os.environ.get("ANTHROPIC_API_KEY")
    if not api_key:
        raise ConfigError(f"{spec.text}: no API key. Set ANTHROPIC_API_KEY.")
    return AnthropicModel(
        name,
        base_url=base_url,
        api_key=api_key,
        timeout_s=options.timeout_s or 120.0,
        retry=options.retry,
        price=options.price(name),
        spec=spec.text,
    )


def _local(spec: ModelSpec, options: ModelOptions) -> Model:
    from opensage.models.local import LocalModel

    log = options.log_dir / "local-model-server.log" if options.log_dir else None
    return LocalModel(spec.name, log_path=log, timeout_s=options.timeout_s or 600.0)


def _scripted(spec: ModelSpec, options: ModelOptions) -> Model:
    return ScriptedModel.from_file(Path(spec.need_name()).expanduser())


register_provider("openai", _openai)
register_provider("anthropic", _anthropic)
register_provider("local", _local)
register_provider("scripted", _scripted)
