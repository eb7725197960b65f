"""A reason the app writes itself (a resident's own cancel, an order not picked up) is shown in
the reader's language; a reason staff typed is shown as typed."""

from __future__ import annotations

from tests.store.conftest import make_item, order


async def test_residents_own_cancel_reason_is_shown_in_chinese(client, shop):
    item_id = await make_item(client, shop, points_price=10, stock=3)
    placed = (await order(client, shop.resident, item_id)).json()
    r = await client.post(f"/api/v1/orders/{placed['id']}/cancel", headers=shop.resident.headers)
    assert r.status_code == 200
    zh = {**shop.resident.headers, "Accept-Language": "zh-CN"}
    page = await client.get(f"/store/orders/{placed['id']}", headers=zh)
    assert "居民本人取消" in page.text and "cancelled by the resident" not in page.text
    mine = await client.get("/store/me/orders", headers=zh)
    assert "居民本人取消" in mine.text and "cancelled by the resident" not in mine.text
    en = await client.get(
        f"/store/orders/{placed['id']}", headers={**shop.resident.headers, "Accept-Language": "en"}
    )
    assert "cancelled by the resident" in en.text
