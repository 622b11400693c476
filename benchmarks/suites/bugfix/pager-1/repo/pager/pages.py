"""Split a list of items into numbered pages; the first page is page 1."""


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` items fill, the last one possibly only in part."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    return total // per_page


def page_items(items: list, page: int, per_page: int) -> list:
    """The items shown on `page`: an empty list past the last page."""
    if page < 1:
        raise ValueError("pages are numbered from 1")
    start = (page - 1) * per_page
    return items[start : start + per_page]


def page_label(page: int, total: int, per_page: int) -> str:
    """The caption under a listing, such as 'Page 2 of 5' (an empty listing has one page)."""
    return f"Page {page} of {max(page_count(total, per_page), 1)}"
