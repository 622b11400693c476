import pytest

from opensage.errors import ConfigError
from opensage.models import model_from_spec
from opensage.models.anthropic import AnthropicModel
from opensage.models.openai_compat import OpenAIModel
from opensage.models.pricing import cost_usd, find_price


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("gpt-4o", "unknown model provider 'gpt-4o'"),
        ("openai:", "needs a name"),
        ("openai:gpt-4o", "Set OPENAI_API_KEY"),
        ("anthropic:claude-haiku-4-5", "Set ANTHROPIC_API_KEY"),
        ("local:llama-70b", "unknown local model 'llama-70b'"),
    ],
)
def test_bad_specs_say_how_to_fix_them(spec, words):
    with pytest.raises(ConfigError, match=words):
        model_from_spec(spec)


def test_openai_spec_reads_key_and_base_url_from_the_environment(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    model = model_from_spec("openai:gpt-4.1-mini")
    assert isinstance(model, OpenAIModel)
    assert (model.base_url, model.price, model.name) == (
        "http://127.0.0.1:9/v1",
        (0.4, 1.6),
        "openai:gpt-4.1-mini",
    )


def test_a_server_that_needs_no_key_is_fine(monkeypatch):
    model = model_from_spec("openai:qwen3", base_url="http://127.0.0.1:8000/v1")
    assert isinstance(model, OpenAIModel) and model.price is None


def test_anthropic_spec(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant")
    model = model_from_spec("anthropic:claude-haiku-4-5-20251001")
    assert isinstance(model, AnthropicModel) and model.price == (1.0, 5.0)


def test_prices_match_exactly_or_by_date_never_by_family():
    assert find_price("gpt-4o") == (2.5, 10.0)
    assert find_price("gpt-4o-mini-2024-07-18") == (0.15, 0.6)
    assert find_price("claude-sonnet-4-5-20250929") == (3.0, 15.0)
    assert find_price("openrouter/gpt-4o") == (2.5, 10.0)
    assert find_price("claude-opus-4-9") is None  # a newer version is not assumed to cost the same
    assert find_price("my-model", {"my-model": (1.0, 2.0)}) == (1.0, 2.0)
    assert cost_usd((1.0, 2.0), 500_000, 250_000) == pytest.approx(1.0)
    assert cost_usd(None, 1, 1) is None
