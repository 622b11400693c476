import pytest

from qstring import DecodeError, quote, unquote


def test_quote():
    assert quote("a b&c=d") == "a+b%26c%3Dd"
    assert quote("café") == "caf%C3%A9"
    assert quote("~-._") == "~-._"


def test_unquote():
    assert unquote("a+b%26c") == "a b&c"
    assert unquote("caf%C3%A9") == "café"
    assert unquote("100%") == "100%"
    assert unquote("1%2B1") == "1+1"


def test_unquote_strict():
    with pytest.raises(DecodeError):
        unquote("%zz", strict=True)
    with pytest.raises(DecodeError):
        unquote("%FF", strict=True)
