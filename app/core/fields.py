"""The shapes of values at the edge, declared once: request schemas use these annotated types, so a
value PostgreSQL or the code behind could not take (an id past bigint, a NUL byte, a negative
quantity) is refused with 422 before any service runs, and the OpenAPI schema says so.

Plain functions here parse what arrives as text (path pieces, cursors, form fields, code parts)
by the same rules."""

from __future__ import annotations

import hmac
from typing import Annotated

from msgspec import Meta

# PostgreSQL's bigint, the type of every id.
MAX_ID = 2**63 - 1
# PostgreSQL's integer, the type of counts, prices and point rules.
MAX_INT = 2**31 - 1
# Points move as bigint but are read by JavaScript clients: whole numbers stay exact below 2^53.
MAX_POINTS = 2**53 - 1

# No NUL anywhere: PostgreSQL's text cannot hold it. (msgspec refuses lone surrogates itself.)
_CLEAN = r"^[^\x00]*$"
# The same, with at least one character that is not white space.
_FILLED = r"^[^\x00]*[^\x00\s][^\x00]*$"

Id = Annotated[int, Meta(ge=1, le=MAX_ID, description="A row's id.")]
Count = Annotated[int, Meta(ge=0, le=MAX_INT)]
Quantity = Annotated[int, Meta(ge=1, le=MAX_INT)]
Points = Annotated[int, Meta(ge=1, le=MAX_POINTS, description="Whole points, 1 ≤ points < 2^53.")]
PointRule = Annotated[int, Meta(ge=0, le=MAX_INT)]
SmallInt = Annotated[int, Meta(ge=-MAX_INT, le=MAX_INT)]
# Text a person typed: any length the column allows (the services say which), never NUL.
Text = Annotated[str, Meta(pattern=_CLEAN, max_length=10_000)]
# Text that must say something: a name, a title, a code.
Filled = Annotated[str, Meta(pattern=_FILLED, min_length=1, max_length=10_000)]
# A client-chosen idempotency key (the services may take fewer: the store 100).
Key = Annotated[str, Meta(pattern=_FILLED, min_length=1, max_length=150)]


def parse_id(text: str | None) -> int | None:
    """An id written as ASCII digits, within bigint; None for anything else. `str.isdigit()` alone
    lets through digits that `int()` refuses ('²') and digits of other scripts ('١٢')."""
    if not text or len(text) > 19 or not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None


def parse_int(text: str | None, low: int = -MAX_INT, high: int = MAX_INT) -> int | None:
    """A whole number a form field holds (ASCII digits, an optional minus), within [low, high]."""
    if text is None:
        return None
    text = text.strip()
    digits = text[1:] if text.startswith("-") else text
    if not digits or len(digits) > 19 or not (digits.isascii() and digits.isdigit()):
        return None
    value = int(text)
    return value if low <= value <= high else None


def same_secret(expected: str, given: str) -> bool:
    """Constant-time comparison of two codes' secret parts; a character outside ASCII (which
    `hmac.compare_digest` refuses with TypeError for str) simply makes them differ."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogatepass"))
