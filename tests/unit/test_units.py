"""A count with its unit reads in the form its number takes: 1 point, 2 points (app.core.i18n)."""

from __future__ import annotations

import re

import pytest

from app.core.i18n import UNITS, unit_text


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_english_says_one_in_the_singular_and_more_in_the_plural(unit: str) -> None:
    one, more, none = unit_text("en", 1, unit), unit_text("en", 2, unit), unit_text("en", 0, unit)
    assert one == UNITS[unit][0] % {"num": 1} and not one.endswith(f" {unit}"), one
    assert more == f"2 {unit}" and none == f"0 {unit}"


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_chinese_has_one_form_for_every_number(unit: str) -> None:
    one, more = unit_text("zh", 1, unit), unit_text("zh", 2, unit)
    assert one.startswith("1 ") and more == "2 " + one[2:]
    assert not re.search(r"[A-Za-z]", one), one


def test_points_read_as_they_always_did_in_chinese() -> None:
    assert unit_text("zh", 1, "points") == "1 积分" and unit_text("zh", 15, "points") == "15 积分"
    assert unit_text("zh", 120, "households") == "120 户"
    assert unit_text("en", 1, "people") == "1 person" and unit_text("en", 3, "people") == "3 people"
