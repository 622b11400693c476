import pytest

from opensage.config import load_config
from opensage.core.budget import Limits
from opensage.models.base import ConfigError
from opensage.models.openai_compat import OpenAIModel
from opensage.runtime import resolve_model


def test_defaults_pick_local_when_no_key_is_set(home):
    config = load_config()
    assert config.home == home and config.default_model_spec() == "local"
    assert config.limits == Limits(max_steps=50)


def test_a_hosted_key_changes_the_default(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    assert load_config().default_model_spec().startswith("anthropic:")
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    assert load_config().default_model_spec().startswith("openai:")


def test_files_env_and_profiles_layer(home, tmp_path, monkeypatch):
    home.mkdir()
    (home / "opensage.toml").write_text("""
default_model = "fast"
[limits]
max_steps = 20
max_cost_usd = 1.5
[models.fast]
spec = "openai:my-model"
base_url = "http://127.0.0.1:9/v1"
api_key_env = "MY_KEY"
[prices]
"my-model" = [1.0, 4.0]
""")
    (tmp_path / "opensage.toml").write_text("[limits]\nmax_steps = 10\n")  # the project's
    monkeypatch.setenv("OPENSAGE_MAX_COST_USD", "0.5")
    config = load_config()
    assert config.limits == Limits(max_steps=10, max_cost_usd=0.5)
    with pytest.raises(ConfigError, match=r"needs \$MY_KEY"):
        resolve_model(None, config)
    monkeypatch.setenv("MY_KEY", "secret")
    model = resolve_model(None, config)
    assert isinstance(model, OpenAIModel)
    assert (model.base_url, model.price, model.name) == ("http://127.0.0.1:9/v1", (1.0, 4.0),
                                                         "openai:my-model")


@pytest.mark.parametrize(("text", "words"), [
    ("[limits]\nmax_stepz = 3", "unknown limits"),
    ("[limits]\nmax_steps = 'many'", "bad limit value"),
    ("[models.x]\nbase_url = 'u'", r"\[models.x\] needs a spec"),
    ("default_model = ", "opensage.toml"),
    ("[memory]\nembedder = 'word2vec'", "embedder must be auto, minilm or none"),
])
def test_bad_config_is_a_clear_error(tmp_path, text, words):
    (tmp_path / "opensage.toml").write_text(text)
    with pytest.raises(ConfigError, match=words):
        load_config()
