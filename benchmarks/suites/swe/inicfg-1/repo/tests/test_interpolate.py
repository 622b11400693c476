import pytest

from inicfg import ConfigError, InterpolationError, load

TEXT = """
[DEFAULT]
root = /srv/app

[paths]
logs = ${root}/logs
cache = ${server:tmp}/cache
price = $$5

[server]
tmp = /tmp
port = eighty
"""


def test_references():
    cfg = load(TEXT)
    assert cfg.get("paths", "logs") == "/srv/app/logs"
    assert cfg.get("paths", "cache") == "/tmp/cache"
    assert cfg.get("paths", "price") == "$5"


def test_chained_references():
    cfg = load("[a]\nx = ${y}/x\ny = ${b:z}/y\n[b]\nz = /z\n")
    assert cfg.get("a", "x") == "/z/y/x"


def test_missing_reference():
    cfg = load("[a]\nx = ${nope}\n")
    with pytest.raises(InterpolationError, match="nope"):
        cfg.get("a", "x")


def test_errors_are_config_errors():
    cfg = load(TEXT)
    with pytest.raises(ConfigError, match="line 12"):
        cfg.getint("server", "port")
