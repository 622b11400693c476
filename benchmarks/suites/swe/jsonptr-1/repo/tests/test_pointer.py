import pytest

from jsonptr import PointerError, format_pointer, parse_pointer, resolve

DOC = {"foo": ["bar", "baz"], "": 0, "a/b": 1, "m~n": 8, "k\"l": 6, " ": 7}


def test_rfc_examples():
    assert resolve(DOC, "") == DOC
    assert resolve(DOC, "/foo") == ["bar", "baz"]
    assert resolve(DOC, "/foo/0") == "bar"
    assert resolve(DOC, "/") == 0
    assert resolve(DOC, "/a~1b") == 1
    assert resolve(DOC, "/m~0n") == 8
    assert resolve(DOC, "/k\"l") == 6
    assert resolve(DOC, "/ ") == 7


def test_format_escapes():
    assert format_pointer(["a/b", "m~n"]) == "/a~1b/m~0n"
    assert parse_pointer("/a~1b/m~0n") == ["a/b", "m~n"]


@pytest.mark.parametrize("pointer", ["foo", "/foo/01", "/foo/2", "/foo/-", "/x", "/m~2n"])
def test_bad_pointers(pointer):
    with pytest.raises(PointerError):
        resolve(DOC, pointer)


def test_error_says_where():
    with pytest.raises(PointerError, match="at /foo"):
        resolve({"foo": {"bar": 1}}, "/foo/baz")
