"""`minicalc EXPR [NAME=VALUE ...]`: print the value of an expression."""

import argparse
import sys

from minicalc.errors import CalcError
from minicalc.evaluator import evaluate
from minicalc.nodes import show
from minicalc.parser import parse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="minicalc", description=__doc__)
    parser.add_argument("expression")
    parser.add_argument("names", nargs="*", metavar="NAME=VALUE")
    parser.add_argument("--tree", action="store_true", help="print how it was parsed")
    args = parser.parse_args(argv)
    names = {}
    for item in args.names:
        name, _, value = item.partition("=")
        names[name] = float(value) if "." in value else int(value)
    try:
        print(show(parse(args.expression)) if args.tree else evaluate(args.expression, names))
    except CalcError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
