"""Query strings: parse and build."""

from qstring.build import build
from qstring.codec import DecodeError, quote, unquote
from qstring.multidict import MultiDict
from qstring.parse import parse, parse_pairs

__all__ = ["DecodeError", "MultiDict", "build", "parse", "parse_pairs", "quote", "unquote"]
