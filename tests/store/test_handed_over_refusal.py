"""A pickup code scanned again after its goods were handed over: the refusal says when, to whom
and by which member of staff, in the community's time, at the counter and in the API's detail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from app.core import clock
from tests.api.helpers import page_login, post_form
from tests.store.conftest import make_item, order


async def _handed_at(db: Any, order_id: int) -> str:
    row = (
        await db.execute(
            text(
                "SELECT o.picked_up_at, c.time_zone FROM store_orders o "
                "JOIN communities c ON c.id = o.community_id WHERE o.id = :o"
            ),
            {"o": order_id},
        )
    ).one()
    assert row[0] is not None
    return clock.text(row[0], row[1])


async def test_a_pickup_scanned_again_says_when_to_whom_and_by_whom(client: Any, shop: Any, db: Any) -> None:
    item_id = await make_item(client, shop, name="食用油", points_price=40, stock=5)
    placed = (await order(client, shop.resident, item_id, 1)).json()
    code = placed["pickup_code"]
    done = await client.post("/api/v1/scans", json={"code": code}, headers=shop.staff.headers)
    assert done.status_code == 200, done.text
    when = await _handed_at(db, placed["id"])
    twice = await client.post("/api/v1/scans", json={"code": code}, headers=shop.staff.headers)
    assert twice.status_code == 409 and twice.json()["code"] == "already_done"
    detail = twice.json()["detail"]
    assert when in detail and shop.resident.display_name in detail and shop.staff.display_name in detail
    # At the counter scanner (the preview), in both languages.
    await page_login(client, shop.staff)
    again = await post_form(
        client, "/scan", {"code": code, "context": "counter"}, headers={"hx-request": "true"}
    )
    assert 'data-result="already_done"' in again.text and "已交付" in again.text and when in again.text
    assert shop.staff.display_name in again.text
    english = await post_form(
        client,
        "/scan",
        {"code": code, "context": "counter"},
        headers={"hx-request": "true", "Accept-Language": "en"},
    )
    assert "already handed over" in english.text and when in english.text
    # Typed by its digits afterwards.
    digits = await db.scalar(
        text("SELECT pickup_digits FROM store_orders WHERE id = :o"), {"o": placed["id"]}
    )
    typed = await post_form(
        client, "/scan", {"code": digits, "context": "counter"}, headers={"hx-request": "true"}
    )
    assert 'data-result="already_done"' in typed.text and when in typed.text
