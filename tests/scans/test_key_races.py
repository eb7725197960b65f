"""A scan's idempotency key claimed at the same moment by another scan, on the live server (2
workers): the scan whose claim waits on the other's must see it once that one commits, not the
database as it stood when its own statement began, and change nothing under the key."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import text

from app.core import clock
from app.scans.services import code_digest
from tests.circle.conftest import Circle, buy, give_points, make_offer
from tests.circle.conftest import circle as circle  # the fixture
from tests.conftest import login

WAITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
)
CLAIM = (
    "INSERT INTO scan_replies (scanner_id, idempotency_key, code_digest, event_id, action, answer, at) "
    "VALUES (:u, :k, :d, NULL, NULL, CAST('{}' AS json), :at)"
)


async def _waiting(engine: Any) -> None:
    """Returns once another connection waits on a lock. Each look is a transaction of its own:
    within one, PostgreSQL shows pg_stat_activity as it was at the first look."""
    async with engine.connect() as watch:
        for _ in range(600):
            waiting = (await watch.execute(text(WAITING))).scalar()
            await watch.rollback()
            if waiting:
                return
            await asyncio.sleep(0.05)
    raise AssertionError("the scan never came to wait on the other's claim")


async def test_a_key_claimed_by_a_pickup_committing_meanwhile_is_a_conflict_for_another_order(
    live_server: Any, factory: Any, engine: Any, db: Any
) -> None:
    """The counter's key claimed for order A by a scan still committing, and sent with order B's
    code: B's claim waited on A's, then read the key as unused (what its statement saw when it
    began) and handed B over too, under a key that had served A."""
    tenant = await factory.tenant()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        admin = await login(http, tenant.admin)
        resident = await login(http, await factory.person(tenant))
        await give_points(engine, tenant.community_id, resident.user_id, 50)
        item = await http.post(
            f"/api/v1/communities/{tenant.community_id}/items",
            json={"name": "挂面", "points_price": 10, "stock": 5},
            headers=admin.headers,
        )
        assert item.status_code == 201, item.text
        orders = []
        for n in range(2):
            made = await http.post(
                "/api/v1/orders",
                json={"item_id": item.json()["id"], "quantity": 1, "idempotency_key": f"race-{n}"},
                headers=resident.headers,
            )
            assert made.status_code == 201, made.text
            orders.append(made.json())
        key = "counter-race"
        # The scan of order A has claimed the key and is about to commit; order B's, sent with the
        # same key meanwhile, hands B over and waits on A's claim.
        async with engine.connect() as first:
            claim = {
                "u": admin.user_id,
                "k": key,
                "d": code_digest(orders[0]["pickup_code"]),
                "at": clock.now(),
            }
            await first.execute(text(CLAIM), claim)
            body = {"code": orders[1]["pickup_code"], "idempotency_key": key}
            second = asyncio.create_task(http.post("/api/v1/scans", json=body, headers=admin.headers))
            await _waiting(engine)
            await first.commit()
        answer = await second
    assert answer.status_code == 409 and answer.json()["code"] == "conflict", answer.text
    status = "SELECT status FROM store_orders WHERE id = :o"
    assert (await db.execute(text(status), {"o": orders[1]["id"]})).scalar_one() == "held"


async def test_a_key_claimed_by_a_redemption_committing_meanwhile_is_a_conflict_for_another_voucher(
    live_server: Any, client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    """The usual redemption is one statement that claims the key with what it changes: it found
    the key unused when it began, redeemed voucher B, and its claim, waiting on the one of voucher
    A's scan, then did nothing when that one committed: B was redeemed under a key that had
    served A."""
    offer = await make_offer(client, circle, points_price=10)
    await give_points(engine, circle.community_id, circle.resident.user_id, 50)
    codes = []
    for n in range(2):
        bought = await buy(client, circle.resident, offer, key=f"race-{n}")
        assert bought.status_code == 201, bought.text
        codes.append((bought.json()["id"], bought.json()["voucher_code"]))
    key = "shop-race"
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        async with engine.connect() as first:
            digest = code_digest(codes[0][1])
            await first.execute(
                text(CLAIM), {"u": circle.barber.user_id, "k": key, "d": digest, "at": clock.now()}
            )
            body = {"code": codes[1][1], "idempotency_key": key}
            second = asyncio.create_task(http.post("/api/v1/scans", json=body, headers=circle.barber.headers))
            await _waiting(engine)
            await first.commit()
        answer = await second
    assert answer.status_code == 409 and answer.json()["code"] == "conflict", answer.text
    held = "SELECT status FROM circle_vouchers WHERE id = :v"
    assert (await db.execute(text(held), {"v": codes[1][0]})).scalar_one() == "held"
    wallet = await client.get(
        "/api/v1/me/wallet", params={"community_id": circle.community_id}, headers=circle.resident.headers
    )
    assert (wallet.json()["balance"], wallet.json()["held"]) == (50, 20)
