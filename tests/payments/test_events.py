"""Stripe's events change a payment once, in any order: every permutation of completed, expired
and refunded for one session; the same event 20 times at once; reconciliation after a lost
webhook; a refund asked by the admin. The ledger's invariants hold after each."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core.authz import Actor
from app.payments import fake, gateway, refunds, stripe_events
from tests.api.helpers import page_login
from tests.payments.conftest import (
    WEBHOOK_SECRET,
    apply_waiting,
    deliver,
    donate,
    fake_step,
    funded,
    ledger_ok,
    session_of,
    wish_with_goal,
)
from tests.served_jobs import served_tick

AMOUNT = 8_800


def _events(session_id: str, donation_id: int) -> dict[str, dict[str, Any]]:
    metadata = {"jinlin_kind": "donation", "jinlin_id": str(donation_id)}
    session = {
        "id": session_id,
        "object": "checkout.session",
        "amount_total": AMOUNT,
        "metadata": metadata,
        "payment_intent": "pi_test_perm",
    }
    return {
        "completed": fake.event(
            "checkout.session.completed", {**session, "status": "complete", "payment_status": "paid"}
        ),
        "expired": fake.event(
            "checkout.session.expired", {**session, "status": "expired", "payment_status": "unpaid"}
        ),
        "refunded": fake.event(
            "charge.refunded",
            {
                "id": "ch_perm",
                "object": "charge",
                "amount_refunded": AMOUNT,
                "payment_intent": "pi_test_perm",
                "metadata": metadata,
            },
        ),
    }


# The status a payment ends in, and the contribution rows it leaves, after events in this order:
# the first of completed / expired / refunded to arrive while the payment is open decides, and
# only a refund may follow a completion.
def _expected(order: tuple[str, ...]) -> tuple[str, int]:
    first = order[0]
    if first == "completed":
        return "refunded", 2  # +amount, then -amount
    return ("expired", 0) if first == "expired" else ("refunded", 0)


@pytest.mark.parametrize("order", list(itertools.permutations(("completed", "expired", "refunded"))))
async def test_every_order_of_completed_expired_refunded(
    pay: Any, factory: Any, engine: Any, db: Any, order: Any
):
    goal = await wish_with_goal(pay, factory)
    answer = await donate(pay, goal, AMOUNT, "perm")
    events = _events(session_of(answer["checkout_url"]), answer["donation_id"])
    paid_so_far = False
    for name in order:
        assert (await deliver(pay, events[name])).status_code == 200
        # Delivered twice: a repeat is harmless.
        assert (await deliver(pay, events[name])).status_code == 200
        await apply_waiting(engine)
        if name == "completed" and order[0] == "completed":
            paid_so_far = True
        total = await funded(pay, goal)
        assert total >= 0
        assert total == (AMOUNT if paid_so_far and "refunded" not in order[: order.index(name) + 1] else 0)
    status, rows = _expected(order)
    found = (
        await db.execute(
            text(
                "SELECT p.status, (SELECT count(*) FROM funding_contributions f "
                "WHERE f.payment_id = p.id) AS rows FROM payments p WHERE p.id = :id"
            ),
            {"id": answer["donation_id"]},
        )
    ).one()
    assert (found.status, found.rows) == (status, rows)
    assert await funded(pay, goal) == 0
    await ledger_ok(db, goal.community_id)


async def test_the_same_event_twenty_times_at_once_has_one_effect(
    pay: Any, factory: Any, engine: Any, db: Any, offline_stripe: Any
):
    goal = await wish_with_goal(pay, factory)
    answer = await donate(pay, goal, AMOUNT, "twenty")
    event = await fake_step(engine, "pay", session_of(answer["checkout_url"]))
    assert event is not None
    payload = json.dumps(event).encode()
    secret = WEBHOOK_SECRET
    async with httpx.AsyncClient(base_url=offline_stripe.url, timeout=60) as http:
        answers = await asyncio.gather(
            *[
                http.post(
                    "/stripe/webhook",
                    content=payload,
                    headers={"Stripe-Signature": gateway.sign(payload, secret)},
                )
                for _ in range(20)
            ]
        )
    assert [a.status_code for a in answers] == [200] * 20
    stored = (
        await db.execute(text("SELECT count(*) FROM stripe_events WHERE id = :id"), {"id": event["id"]})
    ).scalar()
    assert stored == 1
    # Twenty copies under distinct ids (as a retrying sender might make), applied by twenty
    # job runs at once: the payment's row lock and its forward-only status leave one effect.
    for i in range(20):
        await deliver(pay, {**event, "id": f"{event['id']}_{i}"})
    await asyncio.gather(*[apply_waiting(engine) for _ in range(20)])
    await apply_waiting(engine)
    assert await funded(pay, goal) == AMOUNT
    rows = (
        await db.execute(
            text("SELECT count(*) FROM funding_contributions WHERE payment_id = :id"),
            {"id": answer["donation_id"]},
        )
    ).scalar()
    assert rows == 1
    await ledger_ok(db, goal.community_id)


async def test_reconciliation_applies_a_completed_checkout_whose_webhook_was_lost(
    pay: Any, factory: Any, engine: Any, db: Any, pay_settings: Any
):
    goal = await wish_with_goal(pay, factory)
    answer = await donate(pay, goal, AMOUNT, "lost")
    session_id = session_of(answer["checkout_url"])
    # The Checkout made further back than reconciliation looks by the wall clock: the session's
    # live server, once a browser test has switched it to the offline test Stripe, reconciles
    # every ten minutes on this database and could apply the lost checkout before the test's own
    # run does (even before the test reads that nothing was applied). The test's runs look back
    # from a moment just after the Checkout was made.
    made = int(time.time()) - (stripe_events.RECONCILE_DAYS + 1) * 86400
    await db.execute(
        text(
            "UPDATE offline_stripe_sessions"
            " SET body = jsonb_set(body, '{created}', to_jsonb(CAST(:t AS bigint))) WHERE id = :id"
        ),
        {"t": made, "id": session_id},
    )
    await db.commit()
    lost = await fake_step(engine, "pay", session_id)
    assert lost is not None  # and never delivered
    await apply_waiting(engine)
    await served_tick(engine, lambda s: stripe_events.reconcile(s, pay_settings))  # by the wall clock
    assert await funded(pay, goal) == 0
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        counts = await stripe_events.reconcile(s, pay_settings, now=made + 60)
    assert counts.get("paid", 0) >= 1
    assert await funded(pay, goal) == AMOUNT
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        again = await stripe_events.reconcile(s, pay_settings, now=made + 60)
    assert "paid" not in again
    assert await funded(pay, goal) == AMOUNT
    # The webhook arriving late changes nothing either.
    await deliver(pay, lost)
    await apply_waiting(engine)
    assert await funded(pay, goal) == AMOUNT
    await ledger_ok(db, goal.community_id)


async def test_a_refund_the_admin_asks_for_lowers_the_total_when_stripe_confirms(
    pay: Any, factory: Any, engine: Any, db: Any, pay_settings: Any
):
    goal = await wish_with_goal(pay, factory)
    answer = await donate(pay, goal, AMOUNT, "refund-me")
    await deliver(pay, await fake_step(engine, "pay", session_of(answer["checkout_url"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    assert await funded(pay, goal) == AMOUNT
    admin = Actor(
        user_id=goal.admin.user_id, display_name="管理员", roles={goal.community_id: frozenset({"admin"})}
    )
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        await refunds.request_refund(s, pay_settings, admin, answer["donation_id"], "127.0.0.1")
    # The offline test Stripe sends charge.refunded to its own server's webhook after answering.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        await apply_waiting(engine)
        if await funded(pay, goal) == 0:
            break
        await asyncio.sleep(0.3)
    assert await funded(pay, goal) == 0
    audited = (
        await db.execute(
            text(
                "SELECT count(*) FROM audit_entries "
                "WHERE action = 'payments.refund_requested' AND target = :t"
            ),
            {"t": f"payment:{answer['donation_id']}"},
        )
    ).scalar()
    assert audited == 1
    resident = Actor(
        user_id=goal.resident.user_id, display_name="r", roles={goal.community_id: frozenset({"resident"})}
    )
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        with pytest.raises(Exception) as refused:
            await refunds.request_refund(s, pay_settings, resident, answer["donation_id"], None)
    assert getattr(refused.value, "code", "") in ("forbidden", "already_done")
    await ledger_ok(db, goal.community_id)


def _refund_event(events: dict[str, dict[str, Any]], refunded_so_far: int) -> dict[str, Any]:
    """A charge.refunded with the charge's refunded total so far (Stripe's cumulative
    `amount_refunded`), as Stripe sends for each partial refund made in its dashboard."""
    charge = {**events["refunded"]["data"]["object"], "amount_refunded": refunded_so_far}
    return fake.event("charge.refunded", charge)


async def _status_and_refund_rows(db: Any, donation_id: int) -> tuple[str, int, int]:
    row = (
        await db.execute(
            text(
                "SELECT p.status, p.refunded_cents, (SELECT count(*) FROM funding_contributions f "
                "WHERE f.payment_id = p.id AND f.amount_cents < 0) AS outs FROM payments p WHERE p.id = :id"
            ),
            {"id": donation_id},
        )
    ).one()
    return row.status, row.refunded_cents, row.outs


async def test_partial_refunds_take_back_each_part_once_in_any_order(
    pay: Any, factory: Any, engine: Any, db: Any
):
    goal = await wish_with_goal(pay, factory)
    answer = await donate(pay, goal, AMOUNT, "parts")
    events = _events(session_of(answer["checkout_url"]), answer["donation_id"])
    assert (await deliver(pay, events["completed"])).status_code == 200
    await apply_waiting(engine)
    assert await funded(pay, goal) == AMOUNT

    first, second = _refund_event(events, 3_000), _refund_event(events, 5_000)
    # The second part's event arrives first, each twice; the first part's then changes nothing.
    for event in (second, second, first, first):
        assert (await deliver(pay, event)).status_code == 200
        await apply_waiting(engine)
        assert await funded(pay, goal) == AMOUNT - 5_000
    assert await _status_and_refund_rows(db, answer["donation_id"]) == ("paid", 5_000, 1)
    await ledger_ok(db, goal.community_id)
    # The admin's refund page says what went back and what a refund would still return.
    await page_login(pay, goal.admin)
    page = (await pay.get(f"/payments/admin/payments/{answer['donation_id']}/refund")).text
    assert "其中 50.00元已退回" in page and "余下的 38.00元将退还给捐款人" in page

    # The rest: the payment is refunded and the goal has nothing of it left.
    assert (await deliver(pay, _refund_event(events, AMOUNT))).status_code == 200
    await apply_waiting(engine)
    assert await funded(pay, goal) == 0
    assert await _status_and_refund_rows(db, answer["donation_id"]) == ("refunded", AMOUNT, 2)
    await ledger_ok(db, goal.community_id)


async def test_a_partial_refund_before_the_completion_is_taken_back_when_it_comes(
    pay: Any, factory: Any, engine: Any, db: Any
):
    goal = await wish_with_goal(pay, factory)
    answer = await donate(pay, goal, AMOUNT, "early-part")
    events = _events(session_of(answer["checkout_url"]), answer["donation_id"])
    for event in (_refund_event(events, 800), events["completed"]):
        assert (await deliver(pay, event)).status_code == 200
        await apply_waiting(engine)
    assert await funded(pay, goal) == AMOUNT - 800
    assert await _status_and_refund_rows(db, answer["donation_id"]) == ("paid", 800, 1)
    await ledger_ok(db, goal.community_id)
