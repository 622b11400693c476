"""Plain-text tables."""

from tablefmt.render import render
from tablefmt.width import display_width

__all__ = ["display_width", "render"]
