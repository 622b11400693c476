import pytest

from durations import DurationError, parse


def test_compact_units():
    assert parse("1h30m") == 5400


def test_spaces_and_long_names():
    assert parse("2 days 4 hours") == 2 * 86400 + 4 * 3600
    assert parse("1 min, 5 secs") == 65


def test_fractions_and_bare_numbers():
    assert parse("1.5h") == 5400
    assert parse("42") == 42


def test_negative():
    assert parse("-1m") == -60


@pytest.mark.parametrize(
    "text", ["", "1x", "h", "1h 2h", "1h-"],
    ids=["empty", "unknown-unit", "no-number", "unit-twice", "trailing-sign"])
def test_errors(text):
    with pytest.raises(DurationError):
        parse(text)
