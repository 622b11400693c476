import pytest

from pathrules import match, select


@pytest.mark.parametrize(("path", "pattern"), [
    ("a.txt", "*.txt"),
    ("src/app/main.py", "src/**/*.py"),
    ("docs/a/b/c.md", "docs/**"),
    ("data1.csv", "data?.csv"),
    ("img_b.png", "img_[abc].png"),
    ("img_d.png", "img_[!abc].png"),
    ("v[1].txt", "v[[]1].txt"),
    ("x", "**"),
], ids=["star", "double-star-middle", "double-star-end", "question", "class", "negated-class",
        "bracket-literal", "everything"])
def test_matches(path, pattern):
    assert match(path, pattern)


@pytest.mark.parametrize(("path", "pattern"), [
    ("a.txt.bak", "*.txt"),
    ("data10.csv", "data?.csv"),
    ("img_a.png", "img_[!abc].png"),
    ("lib/main.py", "src/**/*.py"),
], ids=["suffix", "question-one-char", "negated-class", "other-root"])
def test_does_not_match(path, pattern):
    assert not match(path, pattern)


def test_normalized_paths():
    assert match("./src//a.py", "src/*.py")


def test_select():
    paths = ["a.py", "b.txt", "test_a.py", "c.py"]
    assert select(paths, ["*.py"], exclude=["test_*"]) == ["a.py", "c.py"]
