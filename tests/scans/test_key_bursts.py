"""Copies of one scan sent at once with one idempotency key, on the live server (2 workers), for
each kind the scan entry keeps the answer of (a kiosk code, a member code at an event or at the
counter, a wish's delivery code; pickups and vouchers keep their key on their own rows,
tests/scans/test_key_races.py): the scan takes effect once, every copy is answered with the
first answer, and `jinlin ledger verify` passes after each."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import text

from app.cli import main
from app.core import clock
from tests.conftest import SECRET, Person, count
from tests.events.conftest import kiosk_code, make_event, scan
from tests.wishes.conftest import claim_as_volunteer, code_for, pool, post_wish, publish, town  # noqa: F401 - the pool and town fixtures

COPIES = 10


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    # The live server keeps the real time: codes made here must be current there.
    clock.reset()
    yield
    clock.reset()


async def _copies(url: str, body: dict[str, Any], scanner: Person, n: int = COPIES) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        return await asyncio.gather(
            *(http.post("/api/v1/scans", json=body, headers=scanner.headers) for _ in range(n))
        )


def _one_answer(answers: list[httpx.Response]) -> dict[str, Any]:
    """Every copy answered 200 with the same answer: the first's."""
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
    first = answers[0].json()
    assert all(a.json() == first for a in answers), [a.text for a in answers]
    return dict(first)


async def _logged(db: Any, scanner: Person, key: str) -> int:
    return await count(
        db,
        "SELECT count(*) FROM scans WHERE scanner_id = :u AND idempotency_key = :k",
        u=scanner.user_id,
        k=key,
    )


async def _ledger_verified(engine: Any, community_id: int) -> None:
    env = {"DATABASE_URL": engine.url.render_as_string(hide_password=False), "JINLIN_SECRET_KEY": SECRET}
    args = ["ledger", "verify", "--community", str(community_id)]
    # In a thread of its own: the command runs its own event loop.
    result = await asyncio.to_thread(CliRunner().invoke, main, args, env=env)
    assert result.exit_code == 0, (result.output, result.exception)


async def test_a_kiosk_check_in_sent_ten_times_at_once_checks_in_once_and_answers_each_copy_as_the_first(
    live_server, client, site, db, engine
):
    """The copies that ran beside the first, before its answer was kept, were refused by the
    check-in's own rule (409 `already_done`): the phone that sent the scan again was told it
    failed, for a check-in that had succeeded."""
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id, points_per_attendance=5)
    body = {"code": await kiosk_code(client, admin, event_id), "idempotency_key": "phone-burst"}
    answer = _one_answer(await _copies(live_server.url, body, alice))
    assert answer["result"] == "checked_in"
    assert await count(db, "SELECT count(*) FROM event_checkins WHERE event_id = :e", e=event_id) == 1
    # The scan is logged once, as a copy sent after the answer is kept is not logged again.
    assert await _logged(db, alice, "phone-burst") == 1
    await _ledger_verified(engine, tenant.community_id)


async def test_a_witnessed_check_out_sent_ten_times_at_once_awards_once_and_answers_each_copy_as_the_first(
    live_server, client, site, db, engine
):
    tenant, admin, alice, _bob = site
    event_id = await make_event(
        client, admin, tenant.community_id, points_per_attendance=5, points_per_hour=0, reentry_allowed=True
    )
    card = (await client.get("/api/v1/me/card", headers=alice.headers)).json()["code"]
    door = {"code": card, "event_id": event_id}
    checked_in = await scan(client, admin, **door, action="checkin", idempotency_key="door-in")
    assert checked_in.status_code == 200, checked_in.text
    body = {**door, "action": "checkout", "idempotency_key": "door-out"}
    answer = _one_answer(await _copies(live_server.url, body, admin))
    assert (answer["result"], answer["points_awarded"]) == ("checked_out", 5)
    paid = "SELECT count(*) FROM ledger_transfers WHERE community_id = :c AND kind = 'event'"
    assert await count(db, paid, c=tenant.community_id) == 1
    assert await _logged(db, admin, "door-out") == 1
    await _ledger_verified(engine, tenant.community_id)


WAITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
)
HOLD = (
    "INSERT INTO scan_replies (scanner_id, idempotency_key, code_digest, event_id, action, answer, at) "
    "VALUES (:u, :k, 'held', NULL, NULL, CAST('{}' AS json), :at)"
)


async def _waiting(engine: Any, at_least: int) -> None:
    """Returns once `at_least` other connections wait on a lock. Each look is a transaction of
    its own: within one, PostgreSQL shows pg_stat_activity as at the first look."""
    async with engine.connect() as watch:
        for _ in range(600):
            waiting = (await watch.execute(text(WAITING))).scalar()
            await watch.rollback()
            if waiting >= at_least:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"{at_least} scans never came to wait on the key")


async def test_a_check_in_sent_again_while_the_first_is_finishing_makes_no_second_stay_after_a_check_out(
    live_server, client, site, db, engine
):
    """Where re-entry is allowed a check-in sent again is a new stay, unless it is the same scan.
    The first copy checked in, and its answer was not kept yet (the key's row held by a
    transaction still open, rolled back at the end); the resident checked out meanwhile, and the
    copies sent then found no answer under the key and checked in a second time."""
    tenant, admin, alice, _bob = site
    event_id = await make_event(
        client, admin, tenant.community_id, points_per_attendance=5, points_per_hour=0, reentry_allowed=True
    )
    card = (await client.get("/api/v1/me/card", headers=alice.headers)).json()["code"]
    body = {"code": card, "event_id": event_id, "action": "checkin", "idempotency_key": "door-1"}
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:

        def send() -> asyncio.Task[httpx.Response]:
            return asyncio.create_task(http.post("/api/v1/scans", json=body, headers=admin.headers))

        async with engine.connect() as holder:
            await holder.execute(text(HOLD), {"u": admin.user_id, "k": "door-1", "at": clock.now()})
            first = send()
            await _waiting(engine, 1)
            # Out by the door's other scanner (no key): a stay closed, or none open to close.
            await scan(client, admin, card, event_id=event_id, action="checkout")
            copies = [send() for _ in range(COPIES - 1)]
            await _waiting(engine, 2)
            await holder.rollback()
        answers = [await first, *[await c for c in copies]]
    stays = "SELECT count(*) FROM event_checkins WHERE event_id = :e"
    assert await count(db, stays, e=event_id) == 1
    assert _one_answer(answers)["result"] == "checked_in"
    await _ledger_verified(engine, tenant.community_id)


async def test_a_member_card_at_the_counter_sent_ten_times_at_once_is_one_scan(live_server, client, site, db):
    """A look-up changes nothing but the scan log: each copy that ran beside the first logged a
    scan of its own, where a copy sent after the answer was kept logs none."""
    _tenant, admin, alice, _bob = site
    card = (await client.get("/api/v1/me/card", headers=alice.headers)).json()["code"]
    answer = _one_answer(
        await _copies(live_server.url, {"code": card, "idempotency_key": "counter-look"}, admin)
    )
    assert (answer["result"], answer["user_id"]) == ("member_orders", alice.user_id)
    assert await _logged(db, admin, "counter-look") == 1


async def test_a_wish_delivery_sent_ten_times_at_once_pays_once_and_answers_each_copy_as_the_first(
    live_server,
    client,
    pool,  # noqa: F811
    db,
    engine,
):
    """The copies that ran beside the first found the wish delivered: 409 `already_done` for a
    delivery that had succeeded."""
    wish_id = await post_wish(client, pool)
    await publish(client, pool, wish_id)
    await claim_as_volunteer(client, pool, wish_id)
    body = {"code": await code_for(client, wish_id, pool.volunteer), "idempotency_key": "doorstep"}
    answer = _one_answer(await _copies(live_server.url, body, pool.beneficiary))
    assert answer["result"] == "delivered" and answer["wish_id"] == wish_id
    paid = "SELECT count(*) FROM ledger_transfers WHERE reference = :r"
    assert await count(db, paid, r=f"wish:{wish_id}") == 1
    assert await _logged(db, pool.beneficiary, "doorstep") == 1
    await _ledger_verified(engine, pool.community_id)


async def test_copies_of_a_refused_scan_sent_at_once_are_each_refused_and_leave_the_key_free(
    live_server, client, site, db, engine
):
    """A refused scan keeps no claim of its key: each copy that waited on it is refused in its
    turn, by the domain's rule, and each refusal is logged; once the resident has signed up, the
    same key checks them in."""
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id, signup_required=True)
    card = (await client.get("/api/v1/me/card", headers=alice.headers)).json()["code"]
    body = {"code": card, "event_id": event_id, "action": "checkin", "idempotency_key": "door-early"}
    answers = await _copies(live_server.url, body, admin, n=4)
    assert {(a.status_code, a.json()["code"]) for a in answers} == {(409, "not_signed_up")}, [
        a.text for a in answers
    ]
    assert await _logged(db, admin, "door-early") == 4
    signed_up = await client.post(f"/api/v1/events/{event_id}/signups", headers=alice.headers)
    assert signed_up.status_code == 201, signed_up.text
    retry = await scan(client, admin, **body)
    assert retry.status_code == 200 and retry.json()["result"] == "checked_in", retry.text
    again = _one_answer(await _copies(live_server.url, body, admin, n=4))
    assert again == retry.json()
    assert await count(db, "SELECT count(*) FROM event_checkins WHERE event_id = :e", e=event_id) == 1
