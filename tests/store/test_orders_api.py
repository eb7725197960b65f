"""The store through the public API (API.md): catalogue, orders, cancel, pickup scans."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import clock
from app.core.authz import Actor
from app.places.models import Community
from app.store import services
from app.store import services as store
from app.store.orders import expire_orders
from tests.api.helpers import page_login, post_form
from tests.conftest import count, login
from tests.served_jobs import settled
from tests.store.conftest import give_points, make_item, order, pickup_digits, touch


async def wallet(client, person, community_id):
    r = await client.get(f"/api/v1/me/wallet?community_id={community_id}", headers=person.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_admin_creates_items_and_members_list_them(client, shop):
    item_id = await make_item(
        client, shop, name="食用油 1.8L", points_price=80, stock=5, per_resident_limit=2
    )
    hidden = await make_item(client, shop, name="洗衣液", points_price=30, stock=3, active=False)
    listed = await client.get(f"/api/v1/communities/{shop.community_id}/items", headers=shop.resident.headers)
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [i["id"] for i in items] == [item_id]
    assert {k: items[0][k] for k in ("id", "name", "points_price", "stock", "per_resident_limit")} == {
        "id": item_id,
        "name": "食用油 1.8L",
        "points_price": 80,
        "stock": 5,
        "per_resident_limit": 2,
    }
    staff_view = await client.get(
        f"/api/v1/communities/{shop.community_id}/items", headers=shop.staff.headers
    )
    assert {i["id"] for i in staff_view.json()["items"]} == {item_id, hidden}


async def test_resident_cannot_create_items_and_bad_prices_are_refused(client, shop):
    r = await client.post(
        f"/api/v1/communities/{shop.community_id}/items",
        json={"name": "x", "points_price": 5, "stock": 1},
        headers=shop.resident.headers,
    )
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = await client.post(
        f"/api/v1/communities/{shop.community_id}/items",
        json={"name": "x", "points_price": 0, "stock": 1},
        headers=shop.admin.headers,
    )
    assert r.status_code == 422 and r.json()["code"] == "validation_error"


async def test_order_holds_points_reserves_stock_and_repeat_returns_same_order(client, shop, db):
    item_id = await make_item(client, shop, points_price=50, stock=3)
    first = await order(client, shop.resident, item_id, 2, key="k-1")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "held" and body["points"] == 100 and body["pickup_code"].startswith("JP1-")
    again = await order(client, shop.resident, item_id, 2, key="k-1")
    assert again.status_code == 200 and again.json() == body
    assert await wallet(client, shop.resident, shop.community_id) == {
        "community_id": shop.community_id,
        "balance": 200,
        "held": 100,
        "available": 100,
    }
    assert await count(db, "SELECT stock FROM store_items WHERE id = :i", i=item_id) == 1
    got = await client.get(f"/api/v1/orders/{body['id']}", headers=shop.resident.headers)
    assert got.json()["status"] == "held" and got.json()["pickup_code"] == body["pickup_code"]
    assert got.json()["item_id"] == item_id and got.json()["quantity"] == 2
    different = await order(client, shop.resident, item_id, 1, key="k-1")
    assert different.status_code == 409 and different.json()["code"] == "conflict"


async def test_refusals_change_nothing(client, shop, db, factory, engine):
    item_id = await make_item(client, shop, points_price=60, stock=2, per_resident_limit=1)
    pricey = await make_item(client, shop, name="电饭煲", points_price=500, stock=2)
    hidden = await make_item(client, shop, name="旧货", points_price=1, stock=2, active=False)

    too_many = await order(client, shop.resident, item_id, 3)
    assert too_many.status_code == 409 and too_many.json()["code"] == "out_of_stock"
    broke = await order(client, shop.resident, pricey)
    assert broke.status_code == 409 and broke.json()["code"] == "insufficient_points"
    inactive = await order(client, shop.resident, hidden)
    assert inactive.status_code == 409 and inactive.json()["code"] == "out_of_stock"
    assert await order(client, shop.resident, item_id) is not None
    over_limit = await order(client, shop.resident, item_id)
    assert over_limit.status_code == 409 and over_limit.json()["code"] == "limit_reached"
    bad_qty = await order(client, shop.resident, item_id, 0)
    assert bad_qty.status_code == 422

    other = await factory.tenant()
    touch(other.community_id)
    stranger = await login(client, await factory.person(other))
    await give_points(engine, other.community_id, stranger.user_id, 500)
    foreign = await order(client, stranger, item_id)
    assert foreign.status_code == 404 and foreign.json()["code"] == "not_found"

    # Only the one allowed order moved anything.
    assert (
        await count(db, "SELECT count(*) FROM store_orders WHERE community_id = :c", c=shop.community_id) == 1
    )
    assert await count(db, "SELECT stock FROM store_items WHERE id = :i", i=pricey) == 2
    assert await count(db, "SELECT stock FROM store_items WHERE id = :i", i=item_id) == 1
    assert (await wallet(client, shop.resident, shop.community_id))["held"] == 60


async def test_cancel_returns_points_and_stock_and_is_idempotent(client, shop, db):
    item_id = await make_item(client, shop, points_price=50, stock=1)
    placed = (await order(client, shop.resident, item_id)).json()
    r = await client.post(f"/api/v1/orders/{placed['id']}/cancel", headers=shop.resident.headers)
    assert r.status_code == 200 and r.json() == {"status": "cancelled"}
    again = await client.post(f"/api/v1/orders/{placed['id']}/cancel", headers=shop.resident.headers)
    assert again.json() == {"status": "cancelled"}
    assert (await wallet(client, shop.resident, shop.community_id))["available"] == 200
    assert await count(db, "SELECT stock FROM store_items WHERE id = :i", i=item_id) == 1
    assert (
        "pickup_code"
        not in (await client.get(f"/api/v1/orders/{placed['id']}", headers=shop.resident.headers)).json()
    )
    # The cancelled code no longer hands anything over.
    scan = await client.post(
        "/api/v1/scans", json={"code": placed["pickup_code"]}, headers=shop.staff.headers
    )
    assert scan.status_code == 422 and scan.json()["code"] == "code_invalid"


async def test_staff_cancel_needs_a_reason_and_other_residents_cannot_cancel(client, shop, factory):
    item_id = await make_item(client, shop)
    placed = (await order(client, shop.resident, item_id)).json()
    neighbour = await login(client, await factory.person(shop.tenant))
    r = await client.post(f"/api/v1/orders/{placed['id']}/cancel", headers=neighbour.headers)
    assert r.status_code == 403
    no_reason = await client.post(f"/api/v1/orders/{placed['id']}/cancel", headers=shop.staff.headers)
    assert no_reason.status_code == 422
    ok = await client.post(
        f"/api/v1/orders/{placed['id']}/cancel", json={"reason": "货物受潮"}, headers=shop.staff.headers
    )
    assert ok.status_code == 200 and ok.json() == {"status": "cancelled"}


async def test_staff_scan_hands_over_and_posts_points_once(client, shop, db):
    item_id = await make_item(client, shop, points_price=40, stock=5)
    placed = (await order(client, shop.resident, item_id, 2)).json()
    scan = await client.post(
        "/api/v1/scans",
        json={"code": placed["pickup_code"], "idempotency_key": "s1"},
        headers=shop.staff.headers,
    )
    assert scan.status_code == 200, scan.text
    assert scan.json()["result"] == "picked_up" and scan.json()["order_id"] == placed["id"]
    same = await client.post(
        "/api/v1/scans",
        json={"code": placed["pickup_code"], "idempotency_key": "s1"},
        headers=shop.staff.headers,
    )
    assert same.status_code == 200 and same.json()["result"] == "picked_up"
    twice = await client.post(
        "/api/v1/scans", json={"code": placed["pickup_code"]}, headers=shop.staff.headers
    )
    assert twice.status_code == 409 and twice.json()["code"] == "already_done"
    assert await wallet(client, shop.resident, shop.community_id) == {
        "community_id": shop.community_id,
        "balance": 120,
        "held": 0,
        "available": 120,
    }
    status = (await client.get(f"/api/v1/orders/{placed['id']}", headers=shop.resident.headers)).json()
    assert status["status"] == "picked_up"
    cancel = await client.post(f"/api/v1/orders/{placed['id']}/cancel", headers=shop.resident.headers)
    assert cancel.status_code == 409 and cancel.json()["code"] == "already_done"
    assert (
        await count(
            db, "SELECT count(*) FROM ledger_transfers WHERE reference = :r", r=f"store_item:{item_id}"
        )
        == 1
    )


async def test_eight_digits_hand_over_at_the_counter(client, shop, db):
    item_id = await make_item(client, shop)
    placed = (await order(client, shop.resident, item_id)).json()
    digits = await pickup_digits(client, shop.resident, placed["id"])
    scan = await client.post("/api/v1/scans", json={"code": digits}, headers=shop.staff.headers)
    assert scan.status_code == 200 and scan.json()["result"] == "picked_up"


async def test_pickup_refusals_expired_other_community_and_non_staff(client, shop, factory, db, engine):
    item_id = await make_item(client, shop, points_price=30, stock=5)
    placed = (await order(client, shop.resident, item_id)).json()
    code = placed["pickup_code"]

    neighbour = await login(client, await factory.person(shop.tenant))
    by_resident = await client.post("/api/v1/scans", json={"code": code}, headers=neighbour.headers)
    assert by_resident.status_code == 403 and by_resident.json()["code"] == "forbidden"
    by_owner = await client.post("/api/v1/scans", json={"code": code}, headers=shop.resident.headers)
    assert by_owner.status_code == 403

    other = await factory.tenant()
    touch(other.community_id)
    other_staff = await login(client, await factory.person(other, roles=["staff"]))
    # API.md's failures of a scan: another community's pickup code is `forbidden`, as another
    # provider's voucher is (not a `not_found` the scan's list does not name).
    foreign = await client.post("/api/v1/scans", json={"code": code}, headers=other_staff.headers)
    assert foreign.status_code == 403 and foreign.json()["code"] == "forbidden"
    digits = await pickup_digits(client, shop.resident, placed["id"])
    foreign_digits = await client.post("/api/v1/scans", json={"code": digits}, headers=other_staff.headers)
    assert foreign_digits.status_code == 422 and foreign_digits.json()["code"] == "code_invalid"

    forged = await client.post("/api/v1/scans", json={"code": "JP1-" + "A" * 26}, headers=shop.staff.headers)
    assert forged.status_code == 422 and forged.json()["code"] == "code_invalid"

    clock.advance(timedelta(days=7, minutes=1))
    expired = await client.post("/api/v1/scans", json={"code": code}, headers=shop.staff.headers)
    assert expired.status_code == 422 and expired.json()["code"] == "code_expired"
    assert (
        await count(db, "SELECT count(*) FROM store_orders WHERE id = :o AND status = 'held'", o=placed["id"])
        == 1
    )
    assert (await wallet(client, shop.resident, shop.community_id))["held"] == 30


async def test_expiry_job_voids_old_orders_and_returns_stock(client, shop, db, engine):
    item_id = await make_item(client, shop, points_price=30, stock=5)
    old = (await order(client, shop.resident, item_id, 2)).json()
    fresh = (await order(client, shop.resident, item_id)).json()
    # Only the old order's pickup time has passed. The clock is not moved instead: the job would
    # then void every order of this worker's database due within that time, other tests' too. A
    # served app's expiry job may void the old order first; the end state is the same.
    await db.execute(
        text("UPDATE store_orders SET expires_at = :past WHERE id = :o"),
        {"past": clock.now() - timedelta(minutes=1), "o": old["id"]},
    )
    await db.commit()
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        await expire_orders(s)
    await settled(engine, "SELECT status FROM store_orders WHERE id = :o", "expired", o=old["id"])
    statuses = dict(
        (
            await db.execute(text("SELECT id, status FROM store_orders WHERE item_id = :i"), {"i": item_id})
        ).all()
    )
    assert statuses == {old["id"]: "expired", fresh["id"]: "held"}
    assert await count(db, "SELECT stock FROM store_items WHERE id = :i", i=item_id) == 4
    assert (await wallet(client, shop.resident, shop.community_id))["held"] == 30


async def test_pickup_validity_is_configurable_per_community(client, shop, db):
    await page_login(client, shop.admin)
    saved = await post_form(
        client, f"/store/admin/c/{shop.community_id}/settings", {"pickup_days": "2", "low_stock": "1"}
    )
    assert saved.status_code == 303, saved.text
    item_id = await make_item(client, shop)
    placed = (await order(client, shop.resident, item_id)).json()
    days = await count(
        db,
        "SELECT extract(day FROM expires_at - created_at)::int FROM store_orders WHERE id = :o",
        o=placed["id"],
    )
    assert days == 2


async def test_remembered_item_facts_give_way_to_an_edit(client, app, shop, db):
    """The order path remembers an item's price and state per worker (app.core.changes); an
    admin's edit reaches the next order: the new price is held, a hidden item is refused."""
    facts = app.state["order_facts"]
    admin = Actor(shop.admin.user_id, "管理员", {shop.community_id: frozenset({"admin"})})
    item_id = await make_item(client, shop, name="酱油", points_price=30, stock=10)
    # The community's first order makes its store account; the next one is remembered.
    for _ in range(2):
        assert (await order(client, shop.resident, item_id)).json()["points"] == 30
    hits = facts.items.hits
    assert (await order(client, shop.resident, item_id)).json()["points"] == 30
    assert facts.items.hits == hits + 1  # this order did not read the item first

    async def edited(change) -> None:
        generation = facts.items.generation
        await change()
        await db.commit()
        async with asyncio.timeout(5):
            while facts.items.generation == generation:  # noqa: ASYNC110 - set by the listener task
                await asyncio.sleep(0.005)

    await edited(
        lambda: store.update_item(
            db, admin, shop.community_id, item_id, store.ItemInput(name="酱油", points_price=25)
        )
    )
    assert (await order(client, shop.resident, item_id)).json()["points"] == 25
    await edited(lambda: store.set_active(db, admin, shop.community_id, item_id, False))
    hidden = await order(client, shop.resident, item_id)
    assert hidden.status_code == 409 and hidden.json()["code"] == "out_of_stock"
    assert await count(db, "SELECT count(*) FROM store_orders WHERE item_id = :i", i=item_id) == 4


async def test_a_monthly_limit_counts_the_month_where_the_community_is(client, shop, db):
    """A community in London: an order placed at 17:00 UTC on the last day of a month is still in
    that month there, though it is already the next one in Beijing. The limit counted months in
    Beijing time whatever the community's zone, so a second order of a once-a-month item passed."""
    await db.execute(
        text("UPDATE communities SET time_zone = 'Europe/London' WHERE id = :c"), {"c": shop.community_id}
    )
    await db.commit()
    item_id = await make_item(client, shop, name="食用油", points_price=10, stock=5, per_resident_limit=1)
    # The first instant of a month in London, at least a day ahead.
    london = ZoneInfo("Europe/London")
    ahead = clock.local(clock.now() + timedelta(days=1), "Europe/London")
    boundary = (ahead.replace(day=1) + timedelta(days=32)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0, tzinfo=london
    )
    clock.advance(boundary - timedelta(hours=12) - clock.now())  # noon on the last day, London
    assert clock.local(clock.now(), "Asia/Shanghai").day != 1  # the same month in Beijing
    first = await order(client, shop.resident, item_id, key="month-1")
    assert first.status_code == 201, first.text
    clock.advance(timedelta(hours=6))  # 18:00, still the same month in London
    assert clock.local(clock.now(), "Asia/Shanghai").day == 1  # the next one in Beijing
    second = await order(client, shop.resident, item_id, key="month-2")
    assert second.status_code == 409 and second.json()["code"] == "limit_reached", second.text
    community = await db.get(Community, shop.community_id)
    assert await services.month_usage(db, shop.resident.user_id, community) == {item_id: 1}
    clock.advance(timedelta(hours=6, minutes=1))  # the new month in London
    assert await services.month_usage(db, shop.resident.user_id, community) == {}
    third = await order(client, shop.resident, item_id, key="month-3")
    assert third.status_code == 201, third.text


async def test_an_orders_hold_moves_only_with_the_order_not_through_the_counter_hold_routes(client, shop, db):
    """The ledger's hold routes post and void the counter's own holds. They took any hold of the
    community by id: staff posting a store order's hold spent the resident's points while the
    order stayed held, so the resident could no longer cancel it (409) and the expiry job, which
    voids the hold of an order not picked up, failed on it and with it the whole batch."""
    item_id = await make_item(client, shop, name="香皂", points_price=30, stock=3)
    placed = await order(client, shop.resident, item_id, key="soap")
    assert placed.status_code == 201, placed.text
    hold_id = await count(db, "SELECT hold_id FROM store_orders WHERE id = :o", o=placed.json()["id"])
    base = f"/api/v1/communities/{shop.community_id}/holds/{hold_id}"
    posted = await client.post(f"{base}/post", headers=shop.staff.headers)
    assert posted.status_code == 404 and posted.json()["code"] == "not_found", posted.text
    voided = await client.post(f"{base}/void", json={"reason": "试试"}, headers=shop.admin.headers)
    assert voided.status_code == 404 and voided.json()["code"] == "not_found", voided.text
    cancelled = await client.post(
        f"/api/v1/orders/{placed.json()['id']}/cancel", headers=shop.resident.headers
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
    wallet = await client.get(
        f"/api/v1/me/wallet?community_id={shop.community_id}", headers=shop.resident.headers
    )
    assert (wallet.json()["balance"], wallet.json()["held"]) == (200, 0)
