"""The admin's offer form takes the cash part as a typed amount of yuan: what is not one is
refused in words on the form again, and nothing is made."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.helpers import page_login, post_form
from tests.circle.conftest import Circle
from tests.conftest import count


@pytest.mark.parametrize("typed", ["inf", "1e400", "-inf", "nan", "12.345", "abc", "-3"])
async def test_a_cash_part_that_is_no_amount_of_yuan_is_refused_on_the_form(
    client: Any, circle: Circle, db: Any, typed: str
) -> None:
    await page_login(client, circle.admin)
    name = f"上门修理 {typed}"
    answer = await post_form(
        client,
        f"/circle/shop/{circle.barber_id}/offers/new",
        {"name": name, "points_price": "15", "cash_yuan": typed},
    )
    assert answer.status_code == 422, answer.text
    assert "现金部分请填写以元为单位的金额" in answer.text and f'value="{typed}"' in answer.text
    made = await count(
        db,
        "SELECT count(*) FROM circle_offers WHERE organisation_id = :p AND name = :n",
        p=circle.barber_id,
        n=name,
    )
    assert made == 0


async def test_a_cash_part_in_yuan_and_fen_is_kept_to_the_fen(client: Any, circle: Circle, db: Any) -> None:
    await page_login(client, circle.admin)
    answer = await post_form(
        client,
        f"/circle/shop/{circle.barber_id}/offers/new",
        {"name": "上门修理 12.35", "points_price": "15", "cash_yuan": "12.35"},
    )
    assert answer.status_code == 303, answer.text
    cents = await count(
        db,
        "SELECT cash_price_cents FROM circle_offers WHERE organisation_id = :p AND name = '上门修理 12.35'",
        p=circle.barber_id,
    )
    assert cents == 1235
