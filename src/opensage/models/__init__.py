"""Models: the `Model` protocol and the adapters behind the model specs.

    openai:MODEL        any OpenAI-compatible endpoint (OPENAI_API_KEY, OPENAI_BASE_URL)
    anthropic:MODEL     Anthropic Messages (ANTHROPIC_API_KEY)
    local[:NAME]        a bundled model (qwen-0.5b, qwen-1.5b, smollm2) or local:PATH.gguf,
                        served by llama.cpp on this machine
    scripted:FILE.json  replays recorded responses (tests and demos)

Another provider is one registration, from any package: a factory gets the parsed spec and the
caller's options (a profile's endpoint and key, the configured prices) and returns a `Model`.

    from opensage.models import ModelOptions, ModelSpec, register_provider

    def my_llm(spec: ModelSpec, options: ModelOptions) -> Model:
        return MyLLM(spec.need_name(), api_key=options.api_key or os.environ["MY_LLM_KEY"])

    register_provider("myllm", my_llm)   # now Agent(model="myllm:big") builds a MyLLM

Registering a taken name raises `ConfigError`, unless `replace=True` says it is meant. A spec
whose prefix nobody registered is a `ConfigError` naming the registered ones.

This package sits at the bottom: it imports nothing else from opensage.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from opensage.errors import ConfigError
from opensage.models.base import (
    Message,
    Model,
    ModelError,
    ModelResponse,
    ModelSettings,
    ToolCall,
    ToolSchema,
    Usage,
)
from opensage.models.pricing import Price
from opensage.models.providers import (
    ModelOptions,
    ModelSpec,
    ProviderFactory,
    build_model,
    register_provider,
)
from opensage.models.retry import RetryPolicy
from opensage.models.scripted import FunctionModel, ScriptedModel, tool_call

__all__ = [
    "ConfigError",
    "FunctionModel",
    "Message",
    "Model",
    "ModelError",
    "ModelOptions",
    "ModelResponse",
    "ModelSettings",
    "ModelSpec",
    "ProviderFactory",
    "RetryPolicy",
    "ScriptedModel",
    "ToolCall",
    "ToolSchema",
    "Usage",
    "model_from_spec",
    "register_provider",
    "tool_call",
]


def model_from_spec(
    spec: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    prices: Mapping[str, Price] | None = None,
    timeout_s: float | None = None,
    retry: RetryPolicy | None = None,
    log_dir: Path | None = None,
    text_tool_calls: bool = False,
) -> Model:
    """Build the model a spec names. Raises `ConfigError` with a fix for a bad spec or setup."""
    return build_model(
        spec,
        ModelOptions(
            base_url=base_url,
            api_key=api_key,
            prices=prices,
            timeout_s=timeout_s,
            retry=retry,
            log_dir=log_dir,
            text_tool_calls=text_tool_calls,
        ),
    )
