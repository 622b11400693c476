"""Greedy word wrapping for plain-text output."""

from wordwrap.wrap import fill, indent, wrap

__all__ = ["fill", "indent", "wrap"]
__version__ = "0.5.2"
