import pytest

from opensage import Agent
from opensage.errors import ConfigError
from opensage.models import (
    ModelOptions,
    ModelSpec,
    ScriptedModel,
    model_from_spec,
    providers,
    register_provider,
)
from opensage.models.openai_compat import OpenAIModel


@pytest.fixture(autouse=True)
def registry(monkeypatch):
    """Each test registers into a copy of the registry, so no test's provider outlives it."""
    monkeypatch.setattr(providers, "_PROVIDERS", dict(providers._PROVIDERS))


class Echo:
    """A provider factory that keeps what it was given and answers with the spec's name."""

    def __init__(self):
        self.calls: list[tuple[ModelSpec, ModelOptions]] = []

    def __call__(self, spec, options):
        self.calls.append((spec, options))
        return ScriptedModel([f"echo {spec.need_name()}"], name=spec.text)


def test_an_unknown_provider_names_every_registered_one():
    register_provider("echo", Echo())
    with pytest.raises(ConfigError) as info:
        model_from_spec("ollama:llama3")
    assert str(info.value) == (
        "unknown model provider 'ollama' in 'ollama:llama3'; use one of: "
        "openai:NAME, anthropic:NAME, local:NAME, scripted:NAME, echo:NAME"
    )


def test_a_registered_provider_builds_the_model_of_its_specs():
    echo = Echo()
    register_provider("echo", echo)
    model = model_from_spec(
        "echo:a:b",
        base_url="http://gateway",
        api_key="k",
        prices={"a:b": (1.0, 2.0)},
        timeout_s=7.0,
    )
    assert model.name == "echo:a:b"
    [(spec, options)] = echo.calls
    assert (spec.text, spec.provider, spec.name) == ("echo:a:b", "echo", "a:b")
    assert (options.base_url, options.api_key, options.timeout_s) == ("http://gateway", "k", 7.0)
    assert options.price("a:b") == (1.0, 2.0) and options.price("gpt-4o") == (2.5, 10.0)


def test_a_registered_provider_may_require_a_name():
    register_provider("echo", Echo())
    with pytest.raises(ConfigError, match=r"model spec 'echo' needs a name: echo:NAME"):
        model_from_spec("echo")


def test_an_agent_given_a_registered_providers_spec_runs_on_its_model(home, monkeypatch):
    echo = Echo()
    register_provider("echo", echo)
    assert Agent("a", model="echo:small").run_sync("hi").answer == "echo small"
    # Through a profile: its endpoint, key and timeout, and the configured prices, reach the
    # factory as they would reach a built-in provider.
    home.mkdir(exist_ok=True)
    (home / "opensage.toml").write_text(
        '[models.mine]\nspec = "echo:big"\nbase_url = "http://gateway/v1"\n'
        'api_key_env = "ECHO_KEY"\ntimeout_s = 9\n[prices]\n"big" = [1.0, 2.0]\n'
    )
    monkeypatch.setenv("ECHO_KEY", "sk-echo")
    result = Agent("a", model="mine").run_sync("hi")
    assert result.answer == "echo big"
    spec, options = echo.calls[-1]
    assert (spec.text, options.base_url, options.api_key, options.timeout_s) == (
        "echo:big",
        "http://gateway/v1",
        "sk-echo",
        9,
    )
    assert options.log_dir == home / "logs" and tuple(options.price("big") or ()) == (1.0, 2.0)


def test_registering_a_taken_name_is_refused_unless_replacing():
    first, second = Echo(), Echo()
    register_provider("echo", first)
    with pytest.raises(
        ConfigError,
        match=r"'echo' is already registered \(by "
        r"tests\.models\.test_providers\.Echo\); pass "
        r"replace=True",
    ):
        register_provider("echo", second)
    model_from_spec("echo:x")
    assert len(first.calls) == 1 and not second.calls
    register_provider("echo", second, replace=True)
    model_from_spec("echo:x")
    assert len(first.calls) == 1 and len(second.calls) == 1


def test_a_built_in_provider_can_be_replaced_on_purpose():
    with pytest.raises(ConfigError, match="'openai' is already registered"):
        register_provider("openai", Echo())
    assert isinstance(model_from_spec("openai:m", base_url="http://127.0.0.1:9/v1"), OpenAIModel)
    register_provider("openai", Echo(), replace=True)
    assert isinstance(model_from_spec("openai:m"), ScriptedModel)


@pytest.mark.parametrize("name", ["", "my:llm"])
def test_a_name_no_spec_could_reach_is_refused(name):
    with pytest.raises(ConfigError, match="must be non-empty and have no colon"):
        register_provider(name, Echo())
