import pytest

from opensage.config import load_config
from opensage.core.budget import Limits
from opensage.errors import ConfigError
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
    assert (model.base_url, model.price, model.name) == (
        "http://127.0.0.1:9/v1",
        (1.0, 4.0),
        "openai:my-model",
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[limits]\nmax_stepz = 3", "limits: unknown setting max_stepz; known: max_steps, "),
        ("[limits]\nmax_steps = 'many'", "limits.max_steps: must be a whole number, got 'many'"),
        ("[limits]\nmax_steps = -1", "limits.max_steps: must be at least 1, got -1"),
        ("[limits]\nmax_cost_usd = 0", "limits.max_cost_usd: must be more than 0, got 0"),
        ("[models.x]\nbase_url = 'u'", "models.x.spec: is missing"),
        ("default_model = ", "not valid TOML"),
        ("default_model = 3", "default_model: must be text (in quotes), got 3"),
        ("[memory]\nembedder = 'word2vec'", "memory.embedder: must be 'auto', 'minilm' or 'none'"),
        ("[memory]\ncurate = 'yes'", "memory.curate: must be true or false, got 'yes'"),
        ("[sandbox]\nlimits = 5", "sandbox.limits: must be a table, got 5"),
        (
            "[sandbox.limits]\nmemory_mb = 'lots'",
            "sandbox.limits.memory_mb: must be a whole number, got 'lots'",
        ),
        ("[sandbox.limits]\nmemory_mb = 512.5", "sandbox.limits.memory_mb: must be a whole number"),
        ("[sandbox.limits]\noutput_bytes = 0", "sandbox.limits.output_bytes: must be at least 1"),
        ("[sandbox.limits]\ncpu_seconds = -5", "sandbox.limits.cpu_seconds: must be at least 1"),
        ("[sandbox.limits]\nnetwork = 'no'", "sandbox.limits.network: must be true or false"),
        ("topology = 'x'", "topology: must be a table, got 'x'"),
        ("[topology]\nmax_depth = 'deep'", "topology.max_depth: must be a whole number"),
        ("[topology]\nmax_depth = -1", "topology.max_depth: must be at least 0"),
        ("[topology]\nmax_concurrent = 0", "topology.max_concurrent: must be at least 1"),
        ("[topology]\nmodels = 'openai:x'", "topology.models: must be a list"),
        ("[topology]\nwidth = 3", "topology: unknown setting width; known: max_depth, "),
        ("[mcp]\nservers = 3", "mcp.servers: must be a table, got 3"),
        ("[mcp.servers.x]\nargs = []", "mcp.servers.x: needs either command"),
        ("memory = 'x'", "memory: must be a table, got 'x'"),
        ("prices = [1, 2]", "prices: must be a table, got [1, 2] (a price is [input, output]"),
        ("[prices]\nm = [1]", "prices.m: must have 2 items, got [1]"),
        ("[prices]\nm = [1, -2]", "prices.m.1: must be at least 0"),
        ("models = [1]", "models: must be a table, got [1]"),
        ("sandbox = { backend = 'jail' }", "sandbox.backend: must be 'bwrap', 'container', "),
        ("colour = 'blue'", "unknown setting colour; known: default_model, "),
    ],
)
@pytest.mark.parametrize("where", ["home", "project"])
def test_bad_config_is_a_clear_error_naming_the_file_and_key(home, tmp_path, text, words, where):
    folder = home if where == "home" else tmp_path
    folder.mkdir(exist_ok=True)
    (folder / "opensage.toml").write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_config()
    assert str(raised.value).startswith(f"{folder / 'opensage.toml'}: ")
    assert words in str(raised.value)


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("OPENSAGE_MAX_STEPS", "many", "OPENSAGE_MAX_STEPS: max_steps: must be a whole number"),
        ("OPENSAGE_MAX_COST_USD", "-1", "OPENSAGE_MAX_COST_USD: max_cost_usd: must be more than 0"),
    ],
)
def test_bad_limits_in_the_environment_are_a_clear_error(monkeypatch, name, value, words):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=words):
        load_config()


def test_every_bad_value_of_a_file_is_named_at_once(tmp_path):
    (tmp_path / "opensage.toml").write_text(
        "[limits]\nmax_steps = 0\n[sandbox.limits]\nmemory_mb = 'lots'\nprocesses = -1\n"
    )
    with pytest.raises(ConfigError) as raised:
        load_config()
    assert [line.split(": ")[1] for line in str(raised.value).splitlines()] == [
        "limits.max_steps",
        "sandbox.limits.memory_mb",
        "sandbox.limits.processes",
    ]
