"""A scan sent again with its idempotency key (the answer was lost: a timeout, a dropped
connection) is answered as the first time and changes nothing (DESIGN.md: a repeat returns the
first result and moves nothing); the same key for another scan is a conflict; sent at once, the
copies make one effect."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import text

from app.core import clock, jobs
from tests.circle.conftest import Circle, buy, give_points, make_offer
from tests.circle.conftest import circle as circle  # the fixture
from tests.conftest import count
from tests.events.conftest import balance, kiosk_code, make_event, scan
from tests.wishes.conftest import claim_as_volunteer, code_for, pool, post_wish, publish, town  # noqa: F401 - the pool and town fixtures


async def _stays(db: Any, event_id: int) -> int:
    return await count(db, "SELECT count(*) FROM event_checkins WHERE event_id = :e", e=event_id)


async def test_a_kiosk_check_in_and_out_sent_again_are_answered_as_the_first_time(client, site, db):
    tenant, admin, alice, _bob = site
    event_id = await make_event(
        client, admin, tenant.community_id, points_per_attendance=5, points_per_hour=0
    )
    code_in = await kiosk_code(client, admin, event_id)
    first_in = await scan(client, alice, code_in, idempotency_key="phone-scan-1")
    assert first_in.status_code == 200 and first_in.json()["result"] == "checked_in", first_in.text
    again_in = await scan(client, alice, code_in, idempotency_key="phone-scan-1")
    assert again_in.status_code == 200, again_in.text
    assert again_in.json() == first_in.json()

    code_out = await kiosk_code(client, admin, event_id, "checkout")
    first_out = await scan(client, alice, code_out, idempotency_key="phone-scan-2")
    assert first_out.status_code == 200 and first_out.json()["points_awarded"] == 5, first_out.text
    again_out = await scan(client, alice, code_out, idempotency_key="phone-scan-2")
    assert again_out.status_code == 200, again_out.text
    assert again_out.json() == first_out.json()
    assert await balance(client, alice, tenant.community_id) == 5
    assert await _stays(db, event_id) == 1
    # Without the key a second scan is a second scan: refused, as before.
    plain = await scan(client, alice, code_out)
    assert plain.status_code == 409 and plain.json()["code"] == "already_done"


async def test_a_check_in_sent_again_after_the_check_out_makes_no_second_stay(client, site, db):
    tenant, admin, alice, _bob = site
    event_id = await make_event(
        client, admin, tenant.community_id, reentry_allowed=True, points_per_attendance=5, points_per_hour=0
    )
    card = (await client.get("/api/v1/me/card", headers=alice.headers)).json()["code"]
    first = await scan(client, admin, card, event_id=event_id, action="checkin", idempotency_key="door-1")
    assert first.status_code == 200 and first.json()["result"] == "checked_in", first.text
    out = await scan(client, admin, card, event_id=event_id, action="checkout", idempotency_key="door-2")
    assert out.status_code == 200 and out.json()["result"] == "checked_out", out.text
    # The scanner's first request, delivered late: re-entry is allowed, yet it is the same scan.
    late = await scan(client, admin, card, event_id=event_id, action="checkin", idempotency_key="door-1")
    assert late.status_code == 200, late.text
    assert late.json() == first.json()
    assert await _stays(db, event_id) == 1
    assert await balance(client, alice, tenant.community_id) == 5


async def test_one_key_for_another_scan_is_a_conflict_and_changes_nothing(client, site, db):
    tenant, admin, alice, bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    alice_card = (await client.get("/api/v1/me/card", headers=alice.headers)).json()["code"]
    bob_card = (await client.get("/api/v1/me/card", headers=bob.headers)).json()["code"]
    first = await scan(client, admin, alice_card, event_id=event_id, action="checkin", idempotency_key="k")
    assert first.status_code == 200, first.text
    for other in (
        {"code": bob_card, "event_id": event_id, "action": "checkin"},
        {"code": alice_card, "event_id": event_id, "action": "checkout"},
    ):
        refused = await client.post(
            "/api/v1/scans", json={**other, "idempotency_key": "k"}, headers=admin.headers
        )
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["code"] == "conflict" and body["status_code"] == 409 and body["detail"]
    assert await _stays(db, event_id) == 1
    # Another scanner's key is its own (bob was not checked in by the refused copies).
    other_scanner = await scan(client, bob, await kiosk_code(client, admin, event_id), idempotency_key="k")
    assert other_scanner.status_code == 200 and other_scanner.json()["result"] == "checked_in"


async def test_copies_sent_at_once_check_in_once_and_a_later_copy_gets_the_first_answer(
    live_server, client, site, db
):
    tenant, admin, alice, _bob = site
    clock.reset()
    event_id = await make_event(client, admin, tenant.community_id)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        # The live server signs member codes with the same secret as the tests' app.
        card = (await http.get("/api/v1/me/card", headers=alice.headers)).json()["code"]
        body = {"code": card, "event_id": event_id, "action": "checkin", "idempotency_key": "burst"}
        answers = await asyncio.gather(
            *(http.post("/api/v1/scans", json=body, headers=admin.headers) for _ in range(10))
        )
        # One check-in, and each copy is answered with it: a copy that ran beside the first
        # waited on its claim of the key, then read its answer.
        done = [a.json() for a in answers if a.status_code == 200]
        assert len(done) == 10 and all(answer == done[0] for answer in done), [a.text for a in answers]
        later = await http.post("/api/v1/scans", json=body, headers=admin.headers)
    assert later.status_code == 200 and later.json() == done[0]
    assert await _stays(db, event_id) == 1


async def test_a_repeat_after_the_code_expired_is_still_the_first_answer(client, site, db):
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id)
    code_in = await kiosk_code(client, admin, event_id)
    first = await scan(client, alice, code_in, idempotency_key="kept")
    assert first.status_code == 200
    try:
        clock.advance(timedelta(minutes=1))
        # The code has expired since, yet the repeat is answered from what was kept.
        again = await scan(client, alice, code_in, idempotency_key="kept")
    finally:
        clock.reset()
    assert again.status_code == 200 and again.json() == first.json()
    assert await _stays(db, event_id) == 1


async def test_a_wish_delivery_sent_again_pays_once_and_is_answered_as_the_first_time(client, pool, db):  # noqa: F811
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    await claim_as_volunteer(client, pool, wish_id)
    code = await code_for(client, wish_id, pool.volunteer)
    body = {"code": code, "idempotency_key": "doorstep-1"}
    first = await client.post("/api/v1/scans", json=body, headers=pool.beneficiary.headers)
    assert first.status_code == 200 and first.json()["result"] == "delivered", first.text
    again = await client.post("/api/v1/scans", json=body, headers=pool.beneficiary.headers)
    assert again.status_code == 200 and again.json() == first.json()
    paid = "SELECT count(*) FROM ledger_transfers WHERE reference = :r"
    assert await count(db, paid, r=f"wish:{wish_id}") == 1


async def test_answers_kept_for_scans_sent_again_are_forgotten_after_a_week(client, site, db, engine):
    """The kept answers do not pile up: the hourly job forgets those older than a week, and a scan
    sent again after that is a new scan; a recent one is still answered as the first time."""
    tenant, admin, alice, bob = site
    event_id = await make_event(
        client, admin, tenant.community_id, points_per_attendance=5, points_per_hour=0
    )
    code = await kiosk_code(client, admin, event_id)
    old = await scan(client, alice, code, idempotency_key="last-month")
    recent = await scan(client, bob, code, idempotency_key="just-now")
    assert old.json()["result"] == recent.json()["result"] == "checked_in"
    await db.execute(
        text(
            "UPDATE scan_replies SET at = at - interval '8 days' "
            "WHERE scanner_id = :u AND idempotency_key = :k"
        ),
        {"u": alice.user_id, "k": "last-month"},
    )
    await db.commit()

    await jobs.run_now(engine, "scans.forget_replies")

    kept = await db.scalar(
        text("SELECT count(*) FROM scan_replies WHERE scanner_id IN (:a, :b)"),
        {"a": alice.user_id, "b": bob.user_id},
    )
    assert kept == 1
    assert (await scan(client, bob, code, idempotency_key="just-now")).json() == recent.json()
    forgotten = await scan(client, alice, code, idempotency_key="last-month")
    assert forgotten.status_code == 409 and forgotten.json()["code"] == "already_done"


async def test_a_pickup_key_sent_again_with_another_code_is_a_conflict_and_hands_nothing_over(
    client, site, db, engine
):
    """Pickups and vouchers answer a repeat of their key themselves, and a key used for one of
    them went straight through with another code: the counter's key for order A, sent with order
    B's code or with a kiosk's, handed B over or checked the scanner in, where every other kind
    answers 409 `conflict` and changes nothing. A refused scan still keeps no key."""
    tenant, admin, alice, _bob = site
    await give_points(engine, tenant.community_id, alice.user_id, 100)
    item = await client.post(
        f"/api/v1/communities/{tenant.community_id}/items",
        json={"name": "大米 5kg", "points_price": 10, "stock": 5},
        headers=admin.headers,
    )
    orders = []
    for n in range(2):
        made = await client.post(
            "/api/v1/orders",
            json={"item_id": item.json()["id"], "quantity": 1, "idempotency_key": f"order-{n}"},
            headers=alice.headers,
        )
        assert made.status_code == 201, made.text
        orders.append(made.json())
    first = await scan(client, admin, orders[0]["pickup_code"], idempotency_key="counter-1")
    assert first.status_code == 200 and first.json()["result"] == "picked_up", first.text
    event_id = await make_event(client, admin, tenant.community_id)
    card = (await client.get("/api/v1/me/card", headers=alice.headers)).json()["code"]
    for other in (
        {"code": orders[1]["pickup_code"]},
        {"code": await kiosk_code(client, admin, event_id)},
        {"code": card, "event_id": event_id, "action": "checkin"},
    ):
        refused = await client.post(
            "/api/v1/scans", json={**other, "idempotency_key": "counter-1"}, headers=admin.headers
        )
        assert refused.status_code == 409, (other, refused.text)
        assert refused.json()["code"] == "conflict" and refused.json()["detail"]
    again = await scan(client, admin, orders[0]["pickup_code"], idempotency_key="counter-1")
    assert again.status_code == 200 and again.json() == first.json()
    # A key kept for a check-in is not a pickup's either.
    door = await scan(client, admin, card, event_id=event_id, action="checkin", idempotency_key="door-1")
    assert door.status_code == 200 and door.json()["result"] == "checked_in", door.text
    crossed = await scan(client, admin, orders[1]["pickup_code"], idempotency_key="door-1")
    assert crossed.status_code == 409 and crossed.json()["code"] == "conflict", crossed.text
    statuses = "SELECT status FROM store_orders WHERE id = :o"
    assert (await db.execute(text(statuses), {"o": orders[1]["id"]})).scalar_one() == "held"
    assert await count(db, "SELECT count(*) FROM event_checkins WHERE event_id = :e", e=event_id) == 1
    # Mistyped digits are refused and keep no key: the right code with the same key is handed over.
    typo = await scan(client, admin, "00000000", idempotency_key="counter-2")
    assert typo.status_code == 422 and typo.json()["code"] == "code_invalid", typo.text
    right = await scan(client, admin, orders[1]["pickup_code"], idempotency_key="counter-2")
    assert right.status_code == 200 and right.json()["order_id"] == orders[1]["id"], right.text


async def test_a_voucher_key_sent_again_with_another_voucher_is_a_conflict_and_redeems_nothing(
    client, circle: Circle, engine, db
):
    """The usual redemption is one statement, which claims the key with it; a key used before
    leaves that statement without effect, and the general path tells a repeat from a conflict."""
    offer = await make_offer(client, circle, points_price=10)
    await give_points(engine, circle.community_id, circle.resident.user_id, 50)
    codes = []
    for _ in range(2):
        bought = await buy(client, circle.resident, offer)
        assert bought.status_code == 201, bought.text
        codes.append((bought.json()["id"], bought.json()["voucher_code"]))
    first = await scan(client, circle.barber, codes[0][1], idempotency_key="shop-1")
    assert first.status_code == 200 and first.json()["result"] == "redeemed", first.text
    other = await scan(client, circle.barber, codes[1][1], idempotency_key="shop-1")
    assert other.status_code == 409 and other.json()["code"] == "conflict", other.text
    again = await scan(client, circle.barber, codes[0][1], idempotency_key="shop-1")
    assert again.status_code == 200 and again.json() == first.json()
    held = "SELECT status FROM circle_vouchers WHERE id = :v"
    assert (await db.execute(text(held), {"v": codes[1][0]})).scalar_one() == "held"
    wallet = await client.get(
        "/api/v1/me/wallet", params={"community_id": circle.community_id}, headers=circle.resident.headers
    )
    assert (wallet.json()["balance"], wallet.json()["held"]) == (40, 10)
    right = await scan(client, circle.barber, codes[1][1], idempotency_key="shop-2")
    assert right.status_code == 200 and right.json()["voucher_id"] == codes[1][0], right.text
