"""The shapes of values at the edge, declared once: request schemas use these annotated types, so a
value PostgreSQL or the code behind could not take (an id past bigint, a NUL byte, a negative
quantity) is refused with 422 before any service runs, and the OpenAPI schema says so.

Plain functions here parse what arrives as text (path pieces, cursors, form fields, code parts)
by the same rules."""

from __future__ import annotations

import hmac
import re
import unicodedata
from datetime import date
from typing import Annotated

from litestar.params import Parameter
from msgspec import Meta

from app.core import clock
from app.core.errors import Invalid
from app.core.i18n import lazy

# PostgreSQL's bigint, the type of every id.
MAX_ID = 2**63 - 1
# PostgreSQL's integer, the type of counts, prices and point rules.
MAX_INT = 2**31 - 1
# Points move as bigint but are read by JavaScript clients: whole numbers stay exact below 2^53.
MAX_POINTS = 2**53 - 1

# Text a person typed never needs a control character, and these change how the text around them
# shows: the bidi embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and direction
# marks (U+200E, U+200F, U+061C) can make a name read reversed on the counter's screen or in an
# export. So no text at the edge holds them; nor NUL, which PostgreSQL's text cannot hold. Text of
# several lines keeps its tabs and line ends; a name, a title, one line, keeps none. (msgspec
# refuses lone surrogates itself.)
# (Written as regular-expression escapes, so the OpenAPI schema's patterns read as text.) The
# text-direction characters are one set for every check (app.core.exports leaves them out of a cell).
DIRECTION_MARKS = r"\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"
_NOT_IN_LINES = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029" + DIRECTION_MARKS
_NOT_IN_A_LINE = r"\x00-\x1f\x7f-\x9f\u2028\u2029" + DIRECTION_MARKS
_CLEAN = f"^[^{_NOT_IN_LINES}]*$"
# The same, with at least one character that is not white space.
_FILLED = f"^[^{_NOT_IN_LINES}]*[^{_NOT_IN_LINES}\\s][^{_NOT_IN_LINES}]*$"
# One line that says something: a person's or an organisation's name, an item's or a service's.
_NAME = f"^[^{_NOT_IN_A_LINE}]*[^{_NOT_IN_A_LINE}\\s][^{_NOT_IN_A_LINE}]*$"
_REFUSED_IN_LINES = re.compile(f"[{_NOT_IN_LINES}]")
_REFUSED_IN_A_LINE = re.compile(f"[{_NOT_IN_A_LINE}]")
# The white space a one-line text cannot keep, which separated words where it was typed.
_LINE_SPACES = re.compile(r"[\t\n\v\f\r\u2028\u2029]+")
UNSAFE_TEXT = lazy(
    "This text holds an invisible control or text-direction character (often pasted along with "
    "it). Please type it again."
)

Id = Annotated[int, Meta(ge=1, le=MAX_ID, description="A row's id.")]
Count = Annotated[int, Meta(ge=0, le=MAX_INT)]
Quantity = Annotated[int, Meta(ge=1, le=MAX_INT)]
Points = Annotated[int, Meta(ge=1, le=MAX_POINTS, description="Whole points, 1 ≤ points < 2^53.")]
PointRule = Annotated[int, Meta(ge=0, le=MAX_INT)]
SmallInt = Annotated[int, Meta(ge=-MAX_INT, le=MAX_INT)]
# Text a person typed: any length the column allows (the services say which), never NUL.
Text = Annotated[str, Meta(pattern=_CLEAN, max_length=10_000)]
# Text that must say something: a title, a reason, a code.
Filled = Annotated[str, Meta(pattern=_FILLED, min_length=1, max_length=10_000)]
# A name: one line that says something (the services normalise it with `human_text`).
Name = Annotated[str, Meta(pattern=_NAME, min_length=1, max_length=10_000)]
# A client-chosen idempotency key (the services may take fewer: the store 100).
Key = Annotated[str, Meta(pattern=_FILLED, min_length=1, max_length=150)]


def kept_form(value: str | None, *, lines: bool = False) -> str:
    """Text a person typed in the form it is kept, nothing refused: NFC (the same name typed on
    two phones is the same string), line ends as "\\n" where the text has several `lines`. The
    one rule for every text that comes in: `human_text` checks it besides; a spreadsheet's cells
    (app.imports) and a search's words take it as it is."""
    text = unicodedata.normalize("NFC", value or "")
    if lines:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def human_text(value: str | None, *, field: str | None = None, lines: bool = False) -> str:
    """Text a person typed, as it is kept (`kept_form`). Invalid (`field`) when it holds a control
    character (a tab or line end allowed only in `lines`) or a text-direction mark."""
    text = kept_form(value, lines=lines)
    if holds_unsafe(text, lines=lines):
        raise Invalid(UNSAFE_TEXT, field=field)
    return text


def without_unsafe(value: str | None, *, lines: bool = False) -> str:
    """Text kept before `human_text` guarded it, made text it accepts: NFC, line ends as "\\n"
    where it has several `lines`, and the characters it refuses left out (a line end or tab in a
    one-line text becomes a space). Migration 0048 cleans the stored names and titles with it."""
    text = kept_form(value, lines=lines)
    if not lines:
        text = _LINE_SPACES.sub(" ", text)
    return (_REFUSED_IN_LINES if lines else _REFUSED_IN_A_LINE).sub("", text)


def holds_unsafe(text: str, *, lines: bool = False) -> bool:
    """Whether `human_text` would refuse the text (for checks that collect reasons, not raise)."""
    return bool((_REFUSED_IN_LINES if lines else _REFUSED_IN_A_LINE).search(text))


# Query parameters whose range the handler checks itself, with a sentence of its own: the OpenAPI
# schema states the range too (schema only; the handler's refusal stays the one a caller sees).
PageLimit = Annotated[int, Parameter(schema_extra={"minimum": 1, "maximum": 100})]
Latitude = Annotated[float | None, Parameter(schema_extra={"minimum": -90, "maximum": 90})]
Longitude = Annotated[float | None, Parameter(schema_extra={"minimum": -180, "maximum": 180})]
Month = Annotated[
    str, Parameter(description="YYYY-MM", schema_extra={"pattern": "^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])$"})
]
KioskAction = Annotated[str, Parameter(schema_extra={"enum": ["checkin", "checkout"]})]


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


MONTH_WORDS = lazy("The month is written YYYY-MM, such as 2026-03.")


def month(value: str | None, *, field: str = "month") -> date:
    """A month typed as YYYY-MM (`clock.parse_month`) as its first day; Invalid (`field`), in the
    same words on every page and route that takes a month, when it is not one."""
    found = clock.parse_month((value or "").strip())
    if found is None:
        raise Invalid(MONTH_WORDS, field=field)
    return found
