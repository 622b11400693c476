"""Computing a tree's value."""

import math
import operator
from collections.abc import Callable, Mapping

from minicalc.errors import CalcError
from minicalc.nodes import Binary, Name, Node, Number, Unary
from minicalc.parser import parse

Value = int | float

OPERATORS: dict[str, Callable[[Value, Value], Value]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "//": operator.floordiv, "%": operator.mod, "**": operator.pow,
}
FUNCTIONS: dict[str, Callable[..., Value]] = {
    "abs": abs, "min": min, "max": max, "round": round, "sqrt": math.sqrt,
}
MAX_EXPONENT = 10_000  # a bound on `**`, so that a typo cannot take all the memory


def _binary(node: Binary, left: Value, right: Value) -> Value:
    if node.op == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
        raise CalcError("exponent too large", node.position)
    try:
        result = OPERATORS[node.op](left, right)
    except ZeroDivisionError:
        raise CalcError("division by zero", node.position) from None
    except OverflowError:
        raise CalcError("result too large", node.position) from None
    if isinstance(result, complex):
        raise CalcError("the result is not a real number", node.position)
    return result


def compute(node: Node, names: Mapping[str, Value]) -> Value:
    if isinstance(node, Number):
        return node.value
    if isinstance(node, Name):
        if node.name not in names:
            raise CalcError(f"unknown name {node.name!r}", node.position)
        return names[node.name]
    if isinstance(node, Unary):
        value = compute(node.operand, names)
        return -value if node.op == "-" else +value
    if isinstance(node, Binary):
        return _binary(node, compute(node.left, names), compute(node.right, names))
    if node.function not in FUNCTIONS:
        raise CalcError(f"unknown function {node.function!r}", node.position)
    args = [compute(a, names) for a in node.args]
    try:
        return FUNCTIONS[node.function](*args)
    except (TypeError, ValueError) as exc:
        raise CalcError(f"{node.function}(): {exc}", node.position) from None


def evaluate(text: str, names: Mapping[str, Value] | None = None) -> Value:
    """The value of the expression `text`, with `names` for its variables."""
    return compute(parse(text), names or {})
