"""A voucher scanned again after its use: the refusal says when it was used, for whom and by
which member of the shop, in the community's time, on the shop page and in the API's detail."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text

from app.core import clock
from tests.api.helpers import page_login, post_form
from tests.circle.conftest import Circle, buy, give_points, make_offer


async def _used_at(db: Any, voucher_id: int) -> str:
    row = (
        await db.execute(
            text(
                "SELECT v.redeemed_at, c.time_zone FROM circle_vouchers v "
                "JOIN communities c ON c.id = v.community_id WHERE v.id = :v"
            ),
            {"v": voucher_id},
        )
    ).one()
    assert row[0] is not None
    return clock.text(row[0], row[1])


async def test_the_api_says_when_for_whom_and_by_whom_a_voucher_was_used(
    client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    offer = await make_offer(client, circle, circle.barber_id, points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 50)
    bought = (await buy(client, circle.resident, offer, key="used-api")).json()
    done = await client.post(
        "/api/v1/scans", json={"code": bought["voucher_code"]}, headers=circle.barber.headers
    )
    assert done.status_code == 200, done.text
    twice = await client.post(
        "/api/v1/scans", json={"code": bought["voucher_code"]}, headers=circle.barber.headers
    )
    assert twice.status_code == 409 and twice.json()["code"] == "already_done"
    detail = twice.json()["detail"]
    when = await _used_at(db, bought["id"])
    assert when in detail, detail
    assert circle.resident.display_name in detail and circle.barber.display_name in detail


async def test_the_shop_page_says_when_for_whom_and_by_whom_a_voucher_was_used(
    client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    offer = await make_offer(client, circle, circle.barber_id, points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 50)
    bought = (await buy(client, circle.resident, offer, key="used-page")).json()
    code = bought["voucher_code"]
    done = await client.post("/api/v1/scans", json={"code": code}, headers=circle.barber.headers)
    assert done.status_code == 200, done.text
    when = await _used_at(db, bought["id"])
    await page_login(client, circle.barber)
    # Scanned by camera (the preview of the shop page), in both languages.
    again = await post_form(
        client,
        f"/circle/shop/{circle.barber_id}/scan",
        {"code": code, "via": "camera"},
        headers={"HX-Request": "true"},
    )
    assert 'data-result="already_done"' in again.text
    assert "这张服务券已经使用过" in again.text and when in again.text
    assert circle.resident.display_name in again.text and circle.barber.display_name in again.text
    english = await post_form(
        client,
        f"/circle/shop/{circle.barber_id}/scan",
        {"code": code, "via": "camera"},
        headers={"Accept-Language": "en"},
    )
    assert english.status_code == 409
    assert re.search(r"already used", english.text) and when in english.text
    # Typed by its digits afterwards (a second person at the counter).
    digits = await db.scalar(text("SELECT digits FROM circle_vouchers WHERE id = :v"), {"v": bought["id"]})
    typed = await post_form(
        client,
        f"/circle/shop/{circle.barber_id}/scan",
        {"code": digits, "via": "typed"},
        headers={"HX-Request": "true"},
    )
    assert 'data-result="already_done"' in typed.text and when in typed.text
    assert circle.barber.display_name in typed.text
