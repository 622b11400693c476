from qstring import MultiDict, build, parse, parse_pairs


def test_pairs_in_order():
    assert parse_pairs("?a=1&b=2&a=3") == [("a", "1"), ("b", "2"), ("a", "3")]


def test_blank_values():
    assert parse_pairs("a=&b&c=1") == [("a", ""), ("b", ""), ("c", "1")]
    assert parse_pairs("a=&b&c=1", keep_blank=False) == [("c", "1")]


def test_plus_and_utf8():
    q = parse("name=J%C3%BCrgen+M%C3%BCller&empty=")
    assert q["name"] == "Jürgen Müller"
    assert q.get("missing") is None
    assert list(q) == ["name", "empty"]


def test_separator():
    assert parse_pairs("a=1;b=2", separator=";") == [("a", "1"), ("b", "2")]


def test_build():
    assert build({"q": "fish & chips", "n": 2}) == "q=fish+%26+chips&n=2"
    assert build({"tag": ["a", "b"]}) == "tag=a&tag=b"
    assert build(MultiDict([("x", "1")])) == "x=1"
