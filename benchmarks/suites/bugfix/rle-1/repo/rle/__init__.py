"""Run-length encoding of text: 'aaab' is '3a1b'."""

from rle.codec import decode, encode

__all__ = ["decode", "encode"]
__version__ = "1.0.0"
