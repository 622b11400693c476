"""Split a list of items into numbered pages."""

from pager.pages import page_count, page_items, page_label

__all__ = ["page_count", "page_items", "page_label"]
__version__ = "1.2.0"
