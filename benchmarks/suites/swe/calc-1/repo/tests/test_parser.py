import pytest

from minicalc import CalcError, parse
from minicalc.nodes import show


@pytest.mark.parametrize(("text", "tree"), [
    ("1 + 2 * 3", "(1 + (2 * 3))"),
    ("(1 + 2) * 3", "((1 + 2) * 3)"),
    ("8 - 3 - 2", "((8 - 3) - 2)"),
    ("8 / 4 / 2", "((8 / 4) / 2)"),
    ("-x + 1", "((-x) + 1)"),
    ("2 * -3", "(2 * (-3))"),
    ("max(1, 2 + 3)", "max(1, (2 + 3))"),
], ids=["mul-before-add", "parens", "sub-left", "div-left", "neg-then-add", "neg-operand",
        "call"])
def test_tree(text, tree):
    assert show(parse(text)) == tree


@pytest.mark.parametrize(("text", "position"), [
    ("1 +", 3), ("(1 + 2", 6), ("1 2", 2), ("2 $ 3", 2), ("max(1,", 6),
], ids=["dangling-op", "unclosed", "two-values", "bad-char", "unclosed-call"])
def test_syntax_errors(text, position):
    with pytest.raises(CalcError) as info:
        parse(text)
    assert info.value.position == position
