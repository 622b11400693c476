import pytest

from inicfg import ParseError, load

TEXT = """
# a comment
[DEFAULT]
root = /srv/app

[server]
Port = 8080   ; inline comment
debug: yes
hosts = a.example,
    b.example
    c.example

[empty]
"""


def test_sections_and_keys():
    cfg = load(TEXT)
    assert cfg.sections() == ["server"]
    assert cfg.keys("server") == ["port", "debug", "hosts", "root"]


def test_typed_getters():
    cfg = load(TEXT)
    assert cfg.getint("server", "port") == 8080
    assert cfg.getbool("server", "DEBUG") is True
    assert cfg.getlist("server", "hosts") == ["a.example", "b.example", "c.example"]


def test_fallback():
    cfg = load(TEXT)
    assert cfg.get("server", "missing", fallback=None) is None


@pytest.mark.parametrize(("text", "line"), [
    ("[s]\nnot an entry\n", 2),
    ("key = before section\n", 1),
], ids=["no-equals", "no-section"])
def test_parse_errors(text, line):
    with pytest.raises(ParseError) as info:
        load(text)
    assert info.value.line == line
