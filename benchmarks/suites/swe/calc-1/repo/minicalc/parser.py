"""A Pratt parser: each binary operator binds with a power; higher binds tighter."""

from minicalc.errors import CalcError
from minicalc.nodes import Binary, Call, Name, Node, Number, Unary
from minicalc.tokens import Token, tokenize

# operator -> (binding power, associativity)
BINARY = {
    "+": (10, "left"), "-": (10, "left"),
    "*": (20, "left"), "/": (20, "left"), "//": (20, "left"), "%": (20, "left"),
    "**": (30, "left"),
}
PREFIX = 40  # unary + and -


class Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self) -> Token:
        return self.tokens[self.index]

    def next(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> Token:
        token = self.next()
        if token.text != text:
            found = repr(token.text) if token.kind != "end" else "the end"
            raise CalcError(f"expected {text!r}, found {found}", token.position)
        return token

    def expression(self, min_power: int = 0) -> Node:
        left = self.prefix()
        while True:
            token = self.peek()
            if token.kind != "op" or token.text not in BINARY:
                break
            power, assoc = BINARY[token.text]
            if power < min_power:
                break
            self.next()
            right = self.expression(power + 1 if assoc == "left" else power)
            left = Binary(token.text, left, right, token.position)
        return left

    def prefix(self) -> Node:
        token = self.next()
        if token.kind == "number":
            text = token.text
            is_float = any(c in text for c in ".eE")
            return Number(float(text) if is_float else int(text))
        if token.kind == "name":
            if self.peek().text == "(":
                return self.call(token)
            return Name(token.text, token.position)
        if token.text in ("+", "-"):
            return Unary(token.text, self.expression(PREFIX))
        if token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        found = repr(token.text) if token.kind != "end" else "the end"
        raise CalcError(f"expected a value, found {found}", token.position)

    def call(self, name: Token) -> Node:
        self.expect("(")
        args: list[Node] = []
        if self.peek().text != ")":
            args.append(self.expression())
            while self.peek().text == ",":
                self.next()
                args.append(self.expression())
        self.expect(")")
        return Call(name.text, tuple(args), name.position)


def parse(text: str) -> Node:
    parser = Parser(text)
    tree = parser.expression()
    token = parser.peek()
    if token.kind != "end":
        raise CalcError(f"unexpected {token.text!r}", token.position)
    return tree
