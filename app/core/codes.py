"""Codes as people type them. One pure function for every path that accepts a typed code (the
scanner's typed field, `POST /api/v1/scans`, the counter's pickup digits), so that what a
person reads off a phone or a card is accepted however their keyboard wrote it; and the one
reading of every typed value that is read rather than kept (`typed_form`): a code, a phone
number, an amount, a coordinate."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

# Spaces and dashes people put between groups of digits ("9171 9784", "9171-9784"), after NFKC
# has turned full-width ones into ASCII; also the dash-like marks an IME may insert.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212\u30fc\uff70]+")
_ASCII_DIGITS = re.compile(r"[0-9]+")

# How long a scanner's wrong typed digits count (app.scans.scanning): past its tries within this
# window, typed digits are refused until the window has moved on, and a 429 says in Retry-After
# that a client waits this long at most (app.core.errors).
TYPED_DIGITS_WINDOW = timedelta(minutes=15)


def typed_form(value: str | None) -> str:
    """Digits, amounts, codes and numbers as a person typed them, read as they meant them: NFKC,
    so the full-width digits, letters, point, comma and minus a Chinese IME types (３９．９０, ，,
    －) are their ASCII forms, and trimmed. Digits of other scripts (١٢) are not mapped, so no
    number or code takes them. The one rule for every typed value that is read, not kept: a
    code, a phone number, an amount, a coordinate (names and words are app.core.fields.kept_form)."""
    return unicodedata.normalize("NFKC", value or "").strip()


def typed_code(raw: str) -> str:
    """The code a person meant: NFKC-normalised (full-width digits and letters from a Chinese
    IME become ASCII) and trimmed; a code made only of digits loses the spaces and dashes
    between its groups. Other codes keep their inner dashes (JP1-..., JM1-...): only spaces,
    which no code contains, are dropped. Non-ASCII digits (Arabic-Indic, Devanagari) stay
    as they are, so they match no code."""
    text = typed_form(raw)
    squeezed = _SEPARATORS.sub("", text)
    if squeezed and _ASCII_DIGITS.fullmatch(squeezed):
        return squeezed
    return re.sub(r"\s+", "", text)
