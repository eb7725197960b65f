"""A list shown a page at a time, with its count: which page a request reads, and of how many.
The one way for every paged page (the wishes, the pool, the orders, the events managed, the
residents): a page asks for its number as text (`page: str = ""`, app.core.web.optional_int), so a
number that is not one (`?page=abc`) reads as the first page here instead of a raw 422."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    number: int  # the page read, 1 to `pages`
    pages: int  # at least one: a list of nothing is one empty page
    offset: int  # the rows before it


def window(total: int, asked: int | None, per_page: int) -> Window:
    """Page `asked` (the first when none) of `total` rows, `per_page` a page: a page past the last
    reads the last, and one before the first the first, so a link kept from a longer list still
    lands on rows."""
    pages = max(-(-total // per_page), 1)
    number = min(max(asked or 1, 1), pages)
    return Window(number, pages, (number - 1) * per_page)
