"""Typed codes: what a person reads off a phone or a card is accepted however it was typed."""

from __future__ import annotations

import pytest

from app.core.codes import typed_code
from app.scans.scanning import ScanRequest, kind_of


@pytest.mark.parametrize(
    "typed",
    [
        "91719784",
        "9171 9784",  # as the pickup page shows them
        " 9171-9784 ",
        "9171 — 9784",
        "９１７１ ９７８４",  # full-width digits and an ideographic space from a Chinese IME
        "９１７１－９７８４",
        "9 1 7 1 9 7 8 4",
        "9171\u00a09784",
    ],
)
def test_pickup_digits_are_read_as_typed(typed: str) -> None:
    assert typed_code(typed) == "91719784"
    assert kind_of(ScanRequest(code=typed)) == "digits"


def test_other_codes_keep_their_dashes_and_lose_only_spaces() -> None:
    assert typed_code(" JP1-ABCD EFGH ") == "JP1-ABCDEFGH"
    assert typed_code("ＪＰ１－ＡＢＣ") == "JP1-ABC"
    assert kind_of(ScanRequest(code="ＪＭ１－X-1")) == "member@counter"


def test_digits_of_other_scripts_are_not_taken_for_ascii_digits() -> None:
    arabic_indic = "٩١٧١٩٧٨٤"
    assert typed_code(arabic_indic) == arabic_indic
    assert kind_of(ScanRequest(code=arabic_indic)) != "digits"
    assert typed_code("") == "" and typed_code("   ") == ""
