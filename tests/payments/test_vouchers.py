"""The cash part of a service-circle voucher through Checkout: 201 awaiting_payment with a
checkout_url and the points held; paid -> held with its code; expired -> the hold voided; refunded
before redemption -> cancelled with the points back; refunded after redemption -> the service
stays redeemed and its points with the provider. The ledger's invariants hold after each."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.circle import cash
from app.core.settings import Settings
from app.payments import fake
from tests.api.helpers import session_of as page_session
from tests.circle.conftest import Circle, give_points, live_in, make_offer, make_provider
from tests.conftest import login
from tests.payments.conftest import apply_waiting, deliver, fake_refund, fake_step, ledger_ok, session_of
from tests.served_jobs import served_tick


async def _circle(pay: Any, factory: Any, engine: Any) -> Circle:
    tenant = await factory.tenant()
    admin = await login(pay, tenant.admin)
    grid = await login(pay, await factory.person(tenant, roles=["grid_worker"], name="林网格"))
    resident = await login(pay, await factory.person(tenant, name="郑美玉"))
    neighbour = await login(pay, await factory.person(tenant, name="黄志强"))
    barber_id, barber = await make_provider(pay, tenant, admin, "老街理发", "barber", 26.0840, 119.2975)
    await live_in(engine, tenant.community_id, [resident.user_id], (26.0822, 119.2961))
    return Circle(tenant, admin, grid, resident, neighbour, barber_id, barber, barber_id, barber)


async def _wallet(pay: Any, circle: Circle) -> dict[str, int]:
    answer = await pay.get(
        "/api/v1/me/wallet", params={"community_id": circle.community_id}, headers=circle.resident.headers
    )
    return dict(answer.json())


async def _buy(pay: Any, circle: Circle, offer_id: int) -> dict[str, Any]:
    answer = await pay.post(
        "/api/v1/vouchers",
        json={"offer_id": offer_id, "idempotency_key": secrets.token_hex(6)},
        headers=circle.resident.headers,
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


async def _voucher(pay: Any, circle: Circle, voucher_id: int) -> dict[str, Any]:
    return dict((await pay.get(f"/api/v1/vouchers/{voucher_id}", headers=circle.resident.headers)).json())


async def test_a_voucher_with_a_cash_part_waits_for_its_payment(pay: Any, factory: Any, engine: Any, db: Any):
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    offer = await make_offer(pay, circle, points_price=10, cash_price_cents=1500)

    bought = await _buy(pay, circle, offer)
    assert (bought["status"], bought["points"], bought["cash_cents"]) == ("awaiting_payment", 10, 1500)
    assert "/offline-stripe/pay/cs_test_" in bought["checkout_url"]
    assert (await _wallet(pay, circle))["held"] == 10
    metadata = await db.scalar(
        text("SELECT kind || ':' || ref_id FROM payments WHERE session_id = :s"),
        {"s": session_of(bought["checkout_url"])},
    )
    assert metadata == f"voucher:{bought['id']}"

    await deliver(pay, await fake_step(engine, "pay", session_of(bought["checkout_url"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    held = await _voucher(pay, circle, bought["id"])
    assert held["status"] == "held" and held["voucher_code"]

    # Redeemed by the provider's member, then refunded in Stripe: the service was given.
    scan = await pay.post("/api/v1/scans", json={"code": held["voucher_code"]}, headers=circle.barber.headers)
    assert scan.status_code == 200 and scan.json()["result"] == "redeemed", scan.text
    await deliver(pay, await fake_refund(engine, session_of(bought["checkout_url"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    assert (await _voucher(pay, circle, bought["id"]))["status"] == "redeemed"
    wallet = await _wallet(pay, circle)
    assert (wallet["balance"], wallet["held"]) == (90, 0)
    await ledger_ok(db, circle.community_id)


async def test_a_cash_voucher_sent_again_or_ten_times_at_once_is_one_voucher_and_one_payment(
    pay: Any, factory: Any, engine: Any, db: Any
):
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    offer = await make_offer(pay, circle, points_price=10, cash_price_cents=1500)
    body = {"offer_id": offer, "idempotency_key": "double-tap"}
    answers = await asyncio.gather(
        *(pay.post("/api/v1/vouchers", json=body, headers=circle.resident.headers) for _ in range(10))
    )
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201], [a.text for a in answers]
    assert len({str(sorted(a.json().items())) for a in answers}) == 1, [a.text for a in answers]
    again = await pay.post("/api/v1/vouchers", json=body, headers=circle.resident.headers)
    assert again.status_code == 200 and again.json() == answers[0].json()
    assert answers[0].json()["status"] == "awaiting_payment"
    made = await db.execute(
        text("SELECT count(*) FROM payments WHERE kind = 'voucher' AND ref_id = :v"),
        {"v": again.json()["id"]},
    )
    assert made.scalar_one() == 1
    assert (await _wallet(pay, circle))["held"] == 10
    await ledger_ok(db, circle.community_id)


async def test_an_expired_checkout_voids_the_points_hold(pay: Any, factory: Any, engine: Any, db: Any):
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    offer = await make_offer(pay, circle, points_price=30, cash_price_cents=800)
    bought = await _buy(pay, circle, offer)
    assert (await _wallet(pay, circle))["held"] == 30
    await deliver(pay, await fake_step(engine, "cancel", session_of(bought["checkout_url"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    assert (await _voucher(pay, circle, bought["id"]))["status"] == "cancelled"
    wallet = await _wallet(pay, circle)
    assert (wallet["balance"], wallet["held"]) == (100, 0)
    await ledger_ok(db, circle.community_id)


async def test_a_refund_before_redemption_cancels_the_voucher_with_its_points_back(
    pay: Any, factory: Any, engine: Any, db: Any
):
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    offer = await make_offer(pay, circle, points_price=25, cash_price_cents=1200)
    bought = await _buy(pay, circle, offer)
    await deliver(pay, await fake_step(engine, "pay", session_of(bought["checkout_url"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    assert (await _voucher(pay, circle, bought["id"]))["status"] == "held"
    refunded = await fake_refund(engine, session_of(bought["checkout_url"]))
    assert refunded is not None
    for _ in range(2):  # delivered twice: once in effect
        await deliver(pay, refunded)
        await apply_waiting(engine)
    assert (await _voucher(pay, circle, bought["id"]))["status"] == "cancelled"
    wallet = await _wallet(pay, circle)
    assert (wallet["balance"], wallet["held"]) == (100, 0)
    await ledger_ok(db, circle.community_id)


async def _refund_unused(engine: Any, settings: Settings) -> int:
    """What the job does every minute."""
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        return await cash.refund_unused(s, settings)


async def test_a_paid_voucher_cancelled_unused_has_its_cash_refunded_once(
    pay: Any, factory: Any, engine: Any, db: Any, pay_settings: Settings
):
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    offer = await make_offer(pay, circle, points_price=20, cash_price_cents=900)
    bought = await _buy(pay, circle, offer)
    await deliver(pay, await fake_step(engine, "pay", session_of(bought["checkout_url"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    cancelled = await pay.post(f"/api/v1/vouchers/{bought['id']}/cancel", headers=circle.resident.headers)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
    asked = text(
        "SELECT refund_requested_at IS NOT NULL FROM payments WHERE kind = 'voucher' AND ref_id = :v"
    )
    await ledger_ok(db, circle.community_id)  # just closed: the job has ten minutes to ask

    # Once a browser test has switched the session's live server to the offline test Stripe, its
    # own run of this job (every minute, on this database) may ask first, even before the test
    # reads the payment: here a served run does, and the test's own run finds nothing left to ask.
    await served_tick(engine, lambda s: cash.refund_unused(s, pay_settings))
    await _refund_unused(engine, pay_settings)
    assert (await db.execute(asked, {"v": bought["id"]})).scalar_one() is True
    async with async_sessionmaker(engine)() as s:
        stripe_side = await fake.get_session(s, session_of(bought["checkout_url"]))
    assert stripe_side["amount_refunded"] == 900
    # Stripe tells the webhook after it answers: its charge.refunded is applied once it arrives.
    status = text("SELECT status FROM payments WHERE kind = 'voucher' AND ref_id = :v")
    for _ in range(100):
        await apply_waiting(engine)
        if (await db.execute(status, {"v": bought["id"]})).scalar_one() == "refunded":
            break
        await db.rollback()
        await asyncio.sleep(0.1)
    assert (await db.execute(status, {"v": bought["id"]})).scalar_one() == "refunded"
    await _refund_unused(engine, pay_settings)  # the next tick asks nothing more
    async with async_sessionmaker(engine)() as s:
        again = await fake.get_session(s, session_of(bought["checkout_url"]))
    assert again["refund"]["id"] == stripe_side["refund"]["id"]
    assert (await _voucher(pay, circle, bought["id"]))["status"] == "cancelled"
    # Asked once, by a job (no one's action), not by the resident's cancel.
    requests = (
        await db.execute(
            text(
                "SELECT count(*), bool_and(a.actor_id IS NULL) FROM audit_entries a JOIN payments p"
                " ON a.target = 'payment:' || p.id WHERE a.action = 'payments.refund_requested'"
                " AND p.kind = 'voucher' AND p.ref_id = :v"
            ),
            {"v": bought["id"]},
        )
    ).one()
    assert tuple(requests) == (1, True)
    wallet = await _wallet(pay, circle)
    assert (wallet["balance"], wallet["held"]) == (100, 0)
    await ledger_ok(db, circle.community_id)


async def test_a_refund_stripe_refuses_does_not_hold_back_the_next_ones(
    pay: Any, factory: Any, engine: Any, db: Any, pay_settings: Settings
):
    """A voucher's cash refunded in Stripe's dashboard whose charge.refunded never came: asked
    again, Stripe refuses (already refunded). The job asks the next vouchers' refunds all the
    same, where it stopped at the refusal on every tick, so no later voucher got its cash back."""
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    offer = await make_offer(pay, circle, points_price=10, cash_price_cents=500)
    first, second = await _buy(pay, circle, offer), await _buy(pay, circle, offer)
    for bought in (first, second):
        await deliver(pay, await fake_step(engine, "pay", session_of(bought["checkout_url"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    assert await fake_refund(engine, session_of(first["checkout_url"])) is not None  # never delivered
    for bought in (first, second):
        cancelled = await pay.post(f"/api/v1/vouchers/{bought['id']}/cancel", headers=circle.resident.headers)
        assert cancelled.status_code == 200, cancelled.text
    await served_tick(engine, lambda s: cash.refund_unused(s, pay_settings))
    await _refund_unused(engine, pay_settings)
    async with async_sessionmaker(engine)() as s:
        stripe_side = await fake.get_session(s, session_of(second["checkout_url"]))
    assert stripe_side["amount_refunded"] == 500
    asked = text(
        "SELECT refund_requested_at IS NOT NULL FROM payments WHERE kind = 'voucher' AND ref_id = :v"
    )
    assert (await db.execute(asked, {"v": second["id"]})).scalar_one() is True
    assert (await db.execute(asked, {"v": first["id"]})).scalar_one() is False


async def test_the_buy_confirmation_says_the_cash_part_before_the_payment_page(
    pay: Any, factory: Any, engine: Any
):
    """ "Yes, buy it for 10 points" led to a payment page for 15 yuan more: the confirmation now
    says the cash part and its button names both; a points-only offer's does not speak of cash."""
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    cash_offer = await make_offer(pay, circle, points_price=10, cash_price_cents=1500)
    points_offer = await make_offer(pay, circle, name="剪发", points_price=12)
    await page_session(pay, circle.resident)
    page = (await pay.get(f"/circle/offers/{cash_offer}/buy")).text
    assert "另需支付现金15.00元，在下一页在线支付。" in page and "确认，用10积分和15.00元购买" in page
    english = (await pay.get(f"/circle/offers/{cash_offer}/buy", headers={"Accept-Language": "en"})).text
    assert "Yes, buy it for 10 points and 15.00 yuan" in english
    plain = (await pay.get(f"/circle/offers/{points_offer}/buy")).text
    assert (
        "确认，用12积分购买" in plain
        and "data-cash-part" not in plain
        and "元" not in plain.split("<main", 1)[1]
    )
