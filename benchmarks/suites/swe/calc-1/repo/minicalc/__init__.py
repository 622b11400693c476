"""Arithmetic expressions without eval."""

from minicalc.errors import CalcError
from minicalc.evaluator import evaluate
from minicalc.parser import parse

__all__ = ["CalcError", "evaluate", "parse"]
