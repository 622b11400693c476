"""Splitting an expression into tokens."""

import re
from dataclasses import dataclass

from minicalc.errors import CalcError

TOKEN = re.compile(
    r"\s*(?:(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?"  # a number, its exponent
    r"|([A-Za-z_]\w*)"  # a name
    r"|(\*\*|//|[-+*/%(),]))"  # an operator
)


@dataclass(frozen=True)
class Token:
    kind: str  # number, name, op, end
    text: str
    position: int


def tokenize(text: str) -> list[Token]:
    tokens = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = TOKEN.match(text, pos)
        if match is None:
            start = len(text) - len(text[pos:].lstrip())
            raise CalcError(f"unexpected character {text[start]!r}", start)
        number, exponent, name, op = match.groups()
        start = match.start(1) if number else match.start(3) if name else match.start(4)
        if number:
            tokens.append(Token("number", number + (exponent or ""), start))
        elif name:
            tokens.append(Token("name", name, start))
        else:
            tokens.append(Token("op", op, start))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens
