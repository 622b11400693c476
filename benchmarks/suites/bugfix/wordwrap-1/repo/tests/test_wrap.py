from wordwrap import fill, indent, wrap


def test_wrap_breaks_between_words():
    assert wrap("one two three", 8) == ["one two", "three"]


def test_empty_text():
    assert wrap("", 10) == []
    assert wrap("   ", 10) == []


def test_a_long_word_gets_its_own_line():
    assert wrap("a extraordinarily b", 5) == ["a", "extraordinarily", "b"]


def test_fill_and_indent():
    assert fill("alpha beta gamma", 11) == "alpha beta\ngamma"
    assert indent("x\ny", "> ") == "> x\n> y"


def test_a_line_may_be_exactly_width_long():
    assert wrap("the cat sat", 7) == ["the cat", "sat"]
