"""A resident's orders page lists every order: the earlier ones a page at a time with their count
(it stopped at the newest 100 and said nothing of the others)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from app.core import clock
from app.store import pages
from tests.api.helpers import loose_dates, words
from tests.store.conftest import Shop, give_points, make_item, order


async def test_my_earlier_orders_are_paged_with_their_count(
    client: Any, shop: Shop, engine: Any, monkeypatch: Any
):
    monkeypatch.setattr(pages, "MY_ORDERS_PAGE", 2)
    item_id = await make_item(client, shop, name="毛巾", points_price=1, stock=20)
    await give_points(engine, shop.community_id, shop.resident.user_id, 20)
    placed = []
    for n in range(6):
        answer = await order(client, shop.resident, item_id, key=f"mine-{n}")
        assert answer.status_code == 201, answer.text
        placed.append(answer.json()["id"])
    for order_id in placed[:5]:
        cancelled = await client.post(f"/api/v1/orders/{order_id}/cancel", headers=shop.resident.headers)
        assert cancelled.status_code == 200, cancelled.text
    seen: list[int] = []
    for number in (1, 2, 3):
        page = (await client.get(f"/store/me/orders?page={number}", headers=shop.resident.headers)).text
        assert f'data-order="{placed[5]}"' in page  # the open one, on every page
        assert "共 5 个订单。" in page and f"第 {number} 页，共 3 页" in page
        listed = [i for i in placed[:5] if f'<tr data-order="{i}">' in page]
        seen += sorted(listed, key=lambda i: page.index(f'<tr data-order="{i}">'))
    assert seen == placed[:5][::-1]  # each once, newest first
    english = await client.get(
        "/store/me/orders?page=9", headers={**shop.resident.headers, "Accept-Language": "en"}
    )
    assert "Orders in all: 5." in english.text and "Page 3 of 3" in english.text
    assert 'href="?page=2#earlier"' in english.text and 'href="?page=4#earlier"' not in english.text


async def test_a_picked_up_order_says_when_it_was_picked_up(
    client: Any, shop: Shop, engine: Any, db: Any
) -> None:
    """A picked-up order's page said 已领取 and nothing else, where a used voucher's page says when it
    was used and My orders lists the time."""
    item_id = await make_item(client, shop, name="毛巾", points_price=1, stock=5)
    await give_points(engine, shop.community_id, shop.resident.user_id, 5)
    placed = (await order(client, shop.resident, item_id)).json()
    done = await client.post(
        "/api/v1/scans", json={"code": placed["pickup_code"]}, headers=shop.staff.headers
    )
    assert done.status_code == 200, done.text
    row = (
        await db.execute(
            text(
                "SELECT o.picked_up_at, c.time_zone FROM store_orders o "
                "JOIN communities c ON c.id = o.community_id WHERE o.id = :o"
            ),
            {"o": placed["id"]},
        )
    ).one()
    when = clock.text(row[0], row[1])
    page = (await client.get(f"/store/orders/{placed['id']}", headers=shop.resident.headers)).text
    assert f"领取时间：{when}" in words(page) and loose_dates(page) == [], page
    english = await client.get(
        f"/store/orders/{placed['id']}", headers={**shop.resident.headers, "Accept-Language": "en"}
    )
    assert f"Picked up on {when}" in words(english.text)


async def test_a_cancelled_order_says_when_in_the_communitys_time(
    client: Any, shop: Shop, engine: Any, db: Any
) -> None:
    """A cancelled order's page said 已取消 and not when, right after cancelling it or later."""
    await db.execute(
        text("UPDATE communities SET time_zone = 'Europe/London' WHERE id = :c"), {"c": shop.community_id}
    )
    await db.commit()
    item_id = await make_item(client, shop, name="毛巾", points_price=1, stock=5)
    await give_points(engine, shop.community_id, shop.resident.user_id, 5)
    placed = (await order(client, shop.resident, item_id)).json()
    cancelled = await client.post(f"/api/v1/orders/{placed['id']}/cancel", headers=shop.resident.headers)
    assert cancelled.status_code == 200, cancelled.text
    closed_at = await db.scalar(text("SELECT closed_at FROM store_orders WHERE id = :o"), {"o": placed["id"]})
    when = clock.text(closed_at, "Europe/London")
    assert when != clock.text(closed_at, "Asia/Shanghai")
    for done in ("", "?done=cancelled"):
        page = (await client.get(f"/store/orders/{placed['id']}{done}", headers=shop.resident.headers)).text
        assert f"取消时间：{when}" in words(page) and loose_dates(page) == [], page
        english = await client.get(
            f"/store/orders/{placed['id']}{done}",
            headers={**shop.resident.headers, "Accept-Language": "en"},
        )
        assert f"Cancelled on {when}" in words(english.text)
