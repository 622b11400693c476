import pytest

from semverlite import InvalidVersion, Version


def test_parse_and_print():
    v = Version.parse("v1.2.3-rc.1+build.5")
    assert (v.major, v.minor, v.patch) == (1, 2, 3)
    assert v.prerelease == ("rc", "1") and v.build == ("build", "5")
    assert str(v) == "1.2.3-rc.1+build.5"


@pytest.mark.parametrize("text", ["1.2", "01.2.3", "1.2.3-", "1.2.3-01", "1.2.3+", "a.b.c"])
def test_invalid(text):
    with pytest.raises(InvalidVersion):
        Version.parse(text)


def test_release_order():
    versions = [Version.parse(t) for t in ["1.10.0", "1.2.0", "1.2.10", "1.2.9", "0.9.0"]]
    assert [str(v) for v in sorted(versions)] == ["0.9.0", "1.2.0", "1.2.9", "1.2.10", "1.10.0"]


def test_prerelease_is_lower_than_release():
    assert Version.parse("2.0.0-rc.1") < Version.parse("2.0.0")
    assert Version.parse("2.0.0-rc.1") > Version.parse("1.9.9")


def test_build_metadata_does_not_count():
    assert Version.parse("1.0.0+a") == Version.parse("1.0.0+b")
    assert len({Version.parse("1.0.0+a"), Version.parse("1.0.0")}) == 1
