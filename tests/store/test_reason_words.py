"""A reason the app writes itself (a resident's own cancel, an order not picked up) is shown in
the reader's language; a reason staff typed is shown as typed."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from app.core import clock
from app.ledger import jobs as ledger_jobs
from app.places.models import Community
from app.store import jobs as store_jobs
from tests.conftest import login
from tests.served_jobs import served_tick
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


async def test_picked_up_today_is_today_where_the_community_is(client, shop, db, engine):
    # Picked up at 23:30 UTC, looked at an hour later: the same morning in Fuzhou (07:30, 08:30),
    # but yesterday in a community that keeps UTC. A day ahead of the wall clock, not behind it:
    # an order placed in the past is past its pickup time at once for a served app's jobs on this
    # database (the store's expiry, the ledger's expired holds), which may void it before the scan.
    clock.advance(datetime(2030, 6, 14, 23, 30, tzinfo=UTC) - clock.now())
    try:
        for person in (shop.admin, shop.staff, shop.resident):  # their sessions from now on
            await login(client, person)
        en = {**shop.staff.headers, "Accept-Language": "en"}
        item_id = await make_item(client, shop, points_price=10, stock=3)
        placed = (await order(client, shop.resident, item_id)).json()
        await served_tick(engine, store_jobs.expire_store_orders)
        await served_tick(engine, ledger_jobs.void_expired_holds)
        scan = await client.post(
            "/api/v1/scans", json={"code": placed["pickup_code"]}, headers=shop.staff.headers
        )
        assert scan.json()["result"] == "picked_up", scan.text
        clock.advance(datetime(2030, 6, 15, 0, 30, tzinfo=UTC) - clock.now())
        page = (await client.get(f"/store/admin/c/{shop.community_id}/orders", headers=en)).text
        assert "2030-06-15 07:30" in page.split("Picked up today")[-1]
        await db.execute(update(Community).where(Community.id == shop.community_id).values(time_zone="UTC"))
        await db.commit()
        page = (await client.get(f"/store/admin/c/{shop.community_id}/orders", headers=en)).text
        assert "Nothing picked up yet today." in page.split("Picked up today")[-1]
    finally:
        clock.reset()
