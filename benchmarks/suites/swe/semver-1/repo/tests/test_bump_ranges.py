import pytest

from semverlite import bump, satisfies


def test_bump_parts():
    assert str(bump("1.2.3-rc.1+b", "major")) == "2.0.0"
    assert str(bump("1.2.3", "minor")) == "1.3.0"
    assert str(bump("1.2.3", "patch")) == "1.2.4"
    assert str(bump("1.2.3-rc.1", "release")) == "1.2.3"


def test_bump_prerelease():
    assert str(bump("1.2.3", "prerelease")) == "1.2.4-rc.1"
    assert str(bump("1.2.4-rc.1", "prerelease")) == "1.2.4-rc.2"
    assert str(bump("1.2.4-beta", "prerelease")) == "1.2.4-beta.1"
    with pytest.raises(ValueError):
        bump("1.0.0", "micro")


@pytest.mark.parametrize(("version", "spec", "expected"), [
    ("1.5.2", "^1.4.0", True),
    ("2.0.0", "^1.4.0", False),
    ("0.2.5", "^0.2.1", True),
    ("0.3.0", "^0.2.1", False),
    ("1.4.9", "~1.4", True),
    ("1.5.0", "~1.4", False),
    ("1.2.0", ">=1.0.0 <2.0.0", True),
    ("3.1.0", "<2 || >=3", True),
    ("2.5.0", "<2 || >=3", False),
], ids=["caret-in", "caret-next-major", "caret-zero-in", "caret-zero-out", "tilde-in",
        "tilde-out", "and", "or-in", "or-out"])
def test_satisfies(version, spec, expected):
    assert satisfies(version, spec) is expected
