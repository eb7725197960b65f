"""Races on a live server with two worker processes (DESIGN.md §4): stock and points never go
below zero, an order is never half-made, and a pickup code is handed over once."""

from __future__ import annotations

import asyncio
import secrets

import httpx

from tests.conftest import count, login
from tests.store.conftest import give_points, make_item


async def _burst(url: str, requests: list[tuple[str, dict, dict]]) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        return await asyncio.gather(
            *(http.post(path, json=body, headers=headers) for path, body, headers in requests)
        )


async def test_fifty_residents_ordering_the_last_item_make_one_order(
    live_server, client, shop, factory, engine, db
):
    item_id = await make_item(client, shop, name="最后一袋米", points_price=10, stock=1)
    people = []
    for i in range(50):
        person = await factory.person(shop.tenant, name=f"居民{i}")
        await give_points(engine, shop.community_id, person.user_id, 100)
        people.append(await login(client, person))
    responses = await _burst(
        live_server.url,
        [
            (
                "/api/v1/orders",
                {"item_id": item_id, "quantity": 1, "idempotency_key": secrets.token_hex(6)},
                p.headers,
            )
            for p in people
        ],
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 49, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"out_of_stock"}
    assert await count(db, "SELECT count(*) FROM store_orders WHERE item_id = :i", i=item_id) == 1
    assert await count(db, "SELECT stock FROM store_items WHERE id = :i", i=item_id) == 0
    assert (
        await count(db, "SELECT count(*) FROM ledger_holds WHERE community_id = :c", c=shop.community_id) == 1
    )


async def test_one_resident_with_points_for_one_item_ordering_twenty_times_gets_one(
    live_server, client, shop, factory, engine, db
):
    item_id = await make_item(client, shop, name="洗衣液", points_price=70, stock=20)
    person = await login(client, await factory.person(shop.tenant, name="只够一次"))
    await give_points(engine, shop.community_id, person.user_id, 100)
    responses = await _burst(
        live_server.url,
        [
            (
                "/api/v1/orders",
                {"item_id": item_id, "quantity": 1, "idempotency_key": f"try-{i}"},
                person.headers,
            )
            for i in range(20)
        ],
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 19, [r.text for r in responses if r.status_code not in (201, 409)]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"insufficient_points"}
    assert await count(db, "SELECT stock FROM store_items WHERE id = :i", i=item_id) == 19
    assert (
        await count(
            db,
            "SELECT held FROM ledger_accounts WHERE user_id = :u AND community_id = :c",
            u=person.user_id,
            c=shop.community_id,
        )
        == 70
    )


async def test_twenty_staff_scans_of_one_pickup_code_hand_over_once(live_server, client, shop, factory, db):
    item_id = await make_item(client, shop, name="食用油", points_price=40, stock=3)
    placed = await client.post(
        "/api/v1/orders",
        json={"item_id": item_id, "quantity": 1, "idempotency_key": "o"},
        headers=shop.resident.headers,
    )
    code = placed.json()["pickup_code"]
    staff = [shop.staff, shop.admin]
    for i in range(3):
        staff.append(await login(client, await factory.person(shop.tenant, roles=["staff"], name=f"柜台{i}")))
    responses = await _burst(
        live_server.url,
        [
            ("/api/v1/scans", {"code": code, "idempotency_key": f"scan-{i}"}, staff[i % len(staff)].headers)
            for i in range(20)
        ],
    )
    results = sorted(r.json().get("result") or r.json()["code"] for r in responses)
    assert results == ["already_done"] * 19 + ["picked_up"], [r.text for r in responses]
    assert (
        await count(
            db,
            "SELECT count(*) FROM ledger_transfers WHERE hold_id = "
            "(SELECT hold_id FROM store_orders WHERE id = :o)",
            o=placed.json()["id"],
        )
        == 1
    )
    assert (
        await count(
            db,
            "SELECT balance FROM ledger_accounts WHERE user_id = :u AND community_id = :c",
            u=shop.resident.user_id,
            c=shop.community_id,
        )
        == 160
    )


async def test_ten_concurrent_repeats_of_one_order_make_one_order(live_server, client, shop, db):
    item_id = await make_item(client, shop, name="挂面", points_price=20, stock=5)
    body = {"item_id": item_id, "quantity": 1, "idempotency_key": "double-tap"}
    responses = await _burst(live_server.url, [("/api/v1/orders", body, shop.resident.headers)] * 10)
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await count(db, "SELECT count(*) FROM store_orders WHERE item_id = :i", i=item_id) == 1
    assert await count(db, "SELECT stock FROM store_items WHERE id = :i", i=item_id) == 4
    assert (
        await count(
            db,
            "SELECT held FROM ledger_accounts WHERE user_id = :u AND community_id = :c",
            u=shop.resident.user_id,
            c=shop.community_id,
        )
        == 20
    )


async def test_one_resident_racing_a_monthly_limit_gets_exactly_the_limit(
    live_server, client, shop, factory, engine, db
):
    """Ten orders at once, each with its own key, of an item limited to two a month: two
    orders, and the other eight are refused with limit_reached (or out of the points they
    could not hold), never a third order."""
    item_id = await make_item(client, shop, name="鸡蛋", points_price=5, stock=20, per_resident_limit=2)
    person = await login(client, await factory.person(shop.tenant, name="限购两次"))
    await give_points(engine, shop.community_id, person.user_id, 500)
    responses = await _burst(
        live_server.url,
        [
            (
                "/api/v1/orders",
                {"item_id": item_id, "quantity": 1, "idempotency_key": f"egg-{i}"},
                person.headers,
            )
            for i in range(10)
        ],
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201, 201] + [409] * 8, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"limit_reached"}
    assert await count(db, "SELECT count(*) FROM store_orders WHERE item_id = :i", i=item_id) == 2
    assert await count(db, "SELECT stock FROM store_items WHERE id = :i", i=item_id) == 18
