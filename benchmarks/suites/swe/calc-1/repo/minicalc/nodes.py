"""The syntax tree."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Number:
    value: int | float


@dataclass(frozen=True)
class Name:
    name: str
    position: int


@dataclass(frozen=True)
class Unary:
    op: str
    operand: "Node"


@dataclass(frozen=True)
class Binary:
    op: str
    left: "Node"
    right: "Node"
    position: int


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple["Node", ...]
    position: int


Node = Number | Name | Unary | Binary | Call


def show(node: Node) -> str:
    """The tree fully parenthesized, e.g. '(1 + (2 * 3))'."""
    if isinstance(node, Number):
        return repr(node.value)
    if isinstance(node, Name):
        return node.name
    if isinstance(node, Unary):
        return f"({node.op}{show(node.operand)})"
    if isinstance(node, Binary):
        return f"({show(node.left)} {node.op} {show(node.right)})"
    return f"{node.function}({', '.join(show(a) for a in node.args)})"
