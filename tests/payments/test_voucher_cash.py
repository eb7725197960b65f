"""The cash part of a voucher, where money and service could both go back to the resident or a
payer be left without a way to pay: a buy form sent again, refunds in part, refunds Stripe
refuses, and Stripe's events out of order. The ledger's invariants hold after each."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.circle import cash
from app.core.settings import Settings
from app.payments import fake, stripe_events
from tests.api.helpers import post_form
from tests.api.helpers import session_of as page_session
from tests.circle.conftest import give_points, make_offer
from tests.payments.conftest import apply_waiting, deliver, fake_refund, fake_step, ledger_ok, session_of
from tests.payments.test_vouchers import _buy, _circle, _refund_unused, _voucher, _wallet
from tests.served_jobs import served_tick


async def test_a_buy_form_sent_again_goes_on_to_the_same_checkout(
    pay: Any, factory: Any, engine: Any, db: Any
):
    """A double tap on "buy" sent the form twice with its key: the second answer led to the
    voucher page, where a voucher awaiting payment has no way to pay; it goes to the Checkout the
    first one made, as the API's repeat answers its checkout_url."""
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    offer = await make_offer(pay, circle, points_price=10, cash_price_cents=1500)
    await page_session(pay, circle.resident)
    form = {"key": "tap-tap", "confirm": "1"}
    first = await post_form(pay, f"/circle/offers/{offer}/buy", form)
    again = await post_form(pay, f"/circle/offers/{offer}/buy", form)
    assert first.status_code == again.status_code == 303, (first.text, again.text)
    assert "/offline-stripe/pay/cs_test_" in first.headers["location"]
    assert again.headers["location"] == first.headers["location"]
    payments = await db.scalar(
        text("SELECT count(*) FROM payments WHERE session_id = :s"),
        {"s": session_of(first.headers["location"])},
    )
    assert payments == 1
    await ledger_ok(db, circle.community_id)


async def _paid_voucher(pay: Any, engine: Any, circle: Any, points: int, cash_cents: int) -> dict[str, Any]:
    offer = await make_offer(pay, circle, points_price=points, cash_price_cents=cash_cents)
    bought = await _buy(pay, circle, offer)
    await deliver(pay, await fake_step(engine, "pay", session_of(bought["checkout_url"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    assert (await _voucher(pay, circle, bought["id"]))["status"] == "held"
    return bought


async def _payment(db: Any, voucher_id: int) -> tuple[str, int, int]:
    await db.rollback()
    row = (
        await db.execute(
            text(
                "SELECT status, refunded_cents, amount_cents FROM payments "
                "WHERE kind = 'voucher' AND ref_id = :v"
            ),
            {"v": voucher_id},
        )
    ).one()
    return str(row[0]), int(row[1]), int(row[2])


async def _until_refunded(engine: Any, db: Any, voucher_id: int) -> None:
    """Stripe tells the webhook after it answers the refund: applied once it has arrived."""
    for _ in range(100):
        await apply_waiting(engine)
        if (await _payment(db, voucher_id))[0] == "refunded":
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the refund of voucher {voucher_id}'s cash part never came back")


async def test_a_refund_in_part_before_use_cancels_the_voucher_and_the_rest_of_the_cash_follows(
    pay: Any, factory: Any, engine: Any, db: Any, pay_settings: Settings
):
    """3 of a voucher's 12 yuan refunded in Stripe's dashboard left the voucher valid: the resident
    had money back and could still have the whole service. Any refund of the cash part of an
    unused voucher now cancels it with its points back, and the rest of the cash goes back too."""
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    bought = await _paid_voucher(pay, engine, circle, 25, 1200)
    code = (await _voucher(pay, circle, bought["id"]))["voucher_code"]
    refunded = await fake_refund(engine, session_of(bought["checkout_url"]), amount=300)
    assert refunded is not None
    for _ in range(2):  # delivered twice: once in effect
        await deliver(pay, refunded)
        await apply_waiting(engine)
    assert (await _voucher(pay, circle, bought["id"]))["status"] == "cancelled"
    assert await _payment(db, bought["id"]) == ("paid", 300, 1200)
    wallet = await _wallet(pay, circle)
    assert (wallet["balance"], wallet["held"]) == (100, 0)
    scan = await pay.post("/api/v1/scans", json={"code": code}, headers=circle.barber.headers)
    assert scan.json().get("result") != "redeemed", scan.text

    await page_session(pay, circle.resident)
    page = (await pay.get(f"/circle/vouchers/{bought['id']}")).text
    assert "现金部分已退款3.00元（共12.00元）" in page and "其余9.00元" in page, page
    english = (await pay.get(f"/circle/vouchers/{bought['id']}", headers={"Accept-Language": "en"})).text
    assert "3.00 yuan of its cash part (12.00 yuan) was refunded" in english
    assert "The other 9.00 yuan is being refunded too" in english

    await served_tick(engine, lambda s: cash.refund_unused(s, pay_settings))
    await _refund_unused(engine, pay_settings)
    async with async_sessionmaker(engine)() as s:
        assert (await fake.get_session(s, session_of(bought["checkout_url"])))["amount_refunded"] == 1200
    await _until_refunded(engine, db, bought["id"])
    assert await _payment(db, bought["id"]) == ("refunded", 1200, 1200)
    page = (await pay.get(f"/circle/vouchers/{bought['id']}")).text
    assert "现金部分12.00元已全部退款" in page
    await ledger_ok(db, circle.community_id)


async def test_a_refund_in_part_that_arrives_before_the_payment_leaves_the_voucher_cancelled(
    pay: Any, factory: Any, engine: Any, db: Any
):
    """Stripe does not promise the order of its events: the refund in part came first and changed
    nothing, then the completion made the voucher valid with part of its money gone back."""
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    offer = await make_offer(pay, circle, points_price=10, cash_price_cents=1000)
    bought = await _buy(pay, circle, offer)
    completed = await fake_step(engine, "pay", session_of(bought["checkout_url"]))
    refunded = await fake_refund(engine, session_of(bought["checkout_url"]), amount=400)
    assert completed is not None and refunded is not None
    await deliver(pay, refunded)
    await apply_waiting(engine)
    await deliver(pay, completed)
    await apply_waiting(engine)
    assert (await _voucher(pay, circle, bought["id"]))["status"] == "cancelled"
    assert await _payment(db, bought["id"]) == ("paid", 400, 1000)
    wallet = await _wallet(pay, circle)
    assert (wallet["balance"], wallet["held"]) == (100, 0)
    await ledger_ok(db, circle.community_id)


async def test_a_refund_in_part_after_use_keeps_the_service_given_and_says_so(
    pay: Any, factory: Any, engine: Any, db: Any
):
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    bought = await _paid_voucher(pay, engine, circle, 20, 1500)
    code = (await _voucher(pay, circle, bought["id"]))["voucher_code"]
    scan = await pay.post("/api/v1/scans", json={"code": code}, headers=circle.barber.headers)
    assert scan.status_code == 200 and scan.json()["result"] == "redeemed", scan.text
    await deliver(pay, await fake_refund(engine, session_of(bought["checkout_url"]), amount=500))  # type: ignore[arg-type]
    await apply_waiting(engine)
    assert (await _voucher(pay, circle, bought["id"]))["status"] == "redeemed"
    assert await _payment(db, bought["id"]) == ("paid", 500, 1500)
    wallet = await _wallet(pay, circle)
    assert (wallet["balance"], wallet["held"]) == (80, 0)
    await page_session(pay, circle.resident)
    page = (await pay.get(f"/circle/vouchers/{bought['id']}")).text
    assert "服务已提供，之后退还了现金部分中的5.00元（共15.00元）。" in page
    english = (await pay.get(f"/circle/vouchers/{bought['id']}", headers={"Accept-Language": "en"})).text
    assert (
        "The service was given; 5.00 yuan of its cash part (15.00 yuan) was refunded afterwards." in english
    )
    await ledger_ok(db, circle.community_id)


async def _stripe_forgets_the_refunds(engine: Any, session_id: str) -> None:
    """The cause of a refusal dealt with on Stripe's side: the charge may be refunded again."""
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        await s.execute(
            text(
                "UPDATE offline_stripe_sessions SET body = body - 'refund' - 'refunds' "
                "|| '{\"amount_refunded\": 0}'::jsonb WHERE id = :id"
            ),
            {"id": session_id},
        )


async def _refusal(db: Any, voucher_id: int) -> tuple[bool, str, int, bool]:
    await db.rollback()
    row = (
        await db.execute(
            text(
                "SELECT refund_refused_at IS NOT NULL, refund_refusal, refund_refusals, "
                "refund_requested_at IS NOT NULL FROM payments WHERE kind = 'voucher' AND ref_id = :v"
            ),
            {"v": voucher_id},
        )
    ).one()
    return bool(row[0]), str(row[1]), int(row[2]), bool(row[3])


async def test_a_refund_stripe_refuses_is_kept_shown_to_the_admin_and_asked_again_by_hand(
    pay: Any, factory: Any, engine: Any, db: Any, pay_settings: Settings
):
    """Stripe refused the refund of a cancelled voucher's cash for good (a 4xx), and the job asked
    again every minute for ever. The refusal is kept with its reason, the job asks no more, the
    admin's money page lists it, and the admin asks again by hand once its cause is dealt with."""
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    bought = await _paid_voucher(pay, engine, circle, 10, 700)
    session_id = session_of(bought["checkout_url"])
    assert await fake_refund(engine, session_id) is not None  # in Stripe's dashboard; its event lost
    cancelled = await pay.post(f"/api/v1/vouchers/{bought['id']}/cancel", headers=circle.resident.headers)
    assert cancelled.status_code == 200, cancelled.text
    for _ in range(3):  # three ticks of the job: Stripe is asked once
        await served_tick(engine, lambda s: cash.refund_unused(s, pay_settings))
        await _refund_unused(engine, pay_settings)
    refused, reason, refusals, asked = await _refusal(db, bought["id"])
    assert (refused, refusals, asked) == (True, 1, False)
    assert "already been refunded" in reason

    await page_session(pay, circle.admin)
    money = f"/payments/admin/c/{circle.community_id}"
    page = (await pay.get(money)).text
    assert "Stripe拒绝的退款" in page and reason in page.replace("&#39;", "'"), page
    assert "/payments/admin/payments/" in page and "/ask-again" in page and "7.00元" in page
    english = (await pay.get(money, headers={"Accept-Language": "en"})).text
    assert "Refunds Stripe refused" in english and "Cash part of a service voucher" in english
    payment_id = await db.scalar(
        text("SELECT id FROM payments WHERE kind = 'voucher' AND ref_id = :v"), {"v": bought["id"]}
    )
    confirm = await pay.get(f"/payments/admin/payments/{payment_id}/ask-again")
    assert confirm.status_code == 200 and "确认，再次向Stripe申请" in confirm.text

    # Asked again before the cause is dealt with: refused again, and its new refusal kept.
    again = await post_form(pay, f"/payments/admin/payments/{payment_id}/ask-again")
    assert again.status_code == 303 and again.headers["location"].endswith("?done=refused_again")
    assert (await _refusal(db, bought["id"]))[2] == 2
    assert "Stripe再次拒绝了这笔退款" in (await pay.get(again.headers["location"])).text

    await _stripe_forgets_the_refunds(engine, session_id)
    again = await post_form(pay, f"/payments/admin/payments/{payment_id}/ask-again")
    assert again.status_code == 303 and again.headers["location"].endswith("?done=asked_again")
    refused, _reason, refusals, asked = await _refusal(db, bought["id"])
    assert (refused, refusals, asked) == (False, 2, True)
    assert "data-refused-refunds" not in (await pay.get(money)).text
    await _until_refunded(engine, db, bought["id"])
    again = await post_form(pay, f"/payments/admin/payments/{payment_id}/ask-again")  # nothing left
    assert again.status_code == 409, again.text
    actions = (
        await db.execute(
            text(
                "SELECT a.action, a.actor_id FROM audit_entries a WHERE a.target = :t "
                "AND a.action LIKE 'payments.refund_%' ORDER BY a.id"
            ),
            {"t": f"payment:{payment_id}"},
        )
    ).all()
    assert [tuple(a) for a in actions] == [
        ("payments.refund_asked_again", circle.admin.user_id),
        ("payments.refund_asked_again", circle.admin.user_id),
        ("payments.refund_requested", circle.admin.user_id),
    ]
    await ledger_ok(db, circle.community_id)


async def test_a_refund_racing_the_scan_of_its_voucher_ends_one_way_only(
    pay: Any, factory: Any, engine: Any, db: Any
):
    """The refund's event applied at the moment the provider scans the voucher: either the scan
    wins (the service is given, its points go to the provider, the money stays refunded) or the
    refund does (the voucher is cancelled with its points back, the scan refused), never both
    and never neither; the ledger holds after every round."""
    circle = await _circle(pay, factory, engine)
    rounds = 6
    await give_points(engine, circle.community_id, circle.resident.user_id, 10 * rounds)
    outcomes = []
    for _ in range(rounds):
        bought = await _paid_voucher(pay, engine, circle, 10, 600)
        code = (await _voucher(pay, circle, bought["id"]))["voucher_code"]
        refunded = await fake_refund(engine, session_of(bought["checkout_url"]), amount=100)
        assert refunded is not None
        stored = await deliver(pay, refunded)
        assert stored.status_code == 200, stored.text
        scan, _applied = await asyncio.gather(
            pay.post("/api/v1/scans", json={"code": code}, headers=circle.barber.headers),
            apply_waiting(engine),
        )
        status = (await _voucher(pay, circle, bought["id"]))["status"]
        redeemed = scan.status_code == 200 and scan.json().get("result") == "redeemed"
        assert (status, redeemed) in (("redeemed", True), ("cancelled", False)), (status, scan.text)
        outcomes.append(status)
        await ledger_ok(db, circle.community_id)
    wallet = await _wallet(pay, circle)
    used = outcomes.count("redeemed")
    assert (wallet["balance"], wallet["held"]) == (10 * (rounds - used), 0)


async def test_a_bank_payment_that_fails_after_the_checkout_gives_the_points_back(
    pay: Any, factory: Any, engine: Any, db: Any
):
    """A payment method that settles later (a bank transfer) completes the Checkout unpaid and
    then tells its failure: that event was not handled, so the voucher waited for its payment
    with the points held until it expired, days later."""
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    offer = await make_offer(pay, circle, points_price=30, cash_price_cents=2000)
    bought = await _buy(pay, circle, offer)
    completed = await fake_step(engine, "pay", session_of(bought["checkout_url"]))
    assert completed is not None
    session = {**completed["data"]["object"], "payment_status": "unpaid"}
    for kind in ("checkout.session.completed", "checkout.session.async_payment_failed"):
        await deliver(pay, fake.event(kind, session))
        await apply_waiting(engine)
        if kind.endswith("completed"):
            assert (await _voucher(pay, circle, bought["id"]))["status"] == "awaiting_payment"
    assert (await _voucher(pay, circle, bought["id"]))["status"] == "cancelled"
    assert (await _payment(db, bought["id"]))[0] == "expired"
    wallet = await _wallet(pay, circle)
    assert (wallet["balance"], wallet["held"]) == (100, 0)


async def test_a_refused_refund_whose_refund_came_after_all_is_no_longer_listed(
    pay: Any, factory: Any, engine: Any, db: Any, pay_settings: Settings
):
    """Stripe refused the refund because the charge was refunded in its dashboard and that event
    was lost. When the lost event comes after all (Stripe sends it again), the money went back and
    nothing is left to ask: the admin's money page listed it under the refused refunds for ever,
    its "Ask again…" leading to a page that said there was nothing to ask."""
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    bought = await _paid_voucher(pay, engine, circle, 10, 700)
    lost = await fake_refund(engine, session_of(bought["checkout_url"]))
    cancelled = await pay.post(f"/api/v1/vouchers/{bought['id']}/cancel", headers=circle.resident.headers)
    assert cancelled.status_code == 200, cancelled.text
    await _refund_unused(engine, pay_settings)
    assert (await _refusal(db, bought["id"]))[:1] == (True,)
    await page_session(pay, circle.admin)
    money = f"/payments/admin/c/{circle.community_id}"
    assert "data-refused-refunds" in (await pay.get(money)).text
    await deliver(pay, lost)  # type: ignore[arg-type]
    await apply_waiting(engine)
    assert await _payment(db, bought["id"]) == ("refunded", 700, 700)
    assert "data-refused-refunds" not in (await pay.get(money)).text
    await ledger_ok(db, circle.community_id)


async def test_the_checkout_leads_back_to_the_voucher_paid_or_not(
    pay: Any, factory: Any, engine: Any, db: Any
):
    """After paying (or leaving) the cash part's Checkout the resident landed on the home page,
    with no word of the voucher just bought: both now lead back to the voucher, which says the
    payment is being confirmed until Stripe's event arrives, and offers the payment again."""
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    offer = await make_offer(pay, circle, points_price=10, cash_price_cents=1500)
    await page_session(pay, circle.resident)
    bought = await post_form(pay, f"/circle/offers/{offer}/buy", {"key": "back-to-it", "confirm": "1"})
    checkout = bought.headers["location"]
    voucher_id = await db.scalar(
        text("SELECT ref_id FROM payments WHERE session_id = :s"), {"s": session_of(checkout)}
    )
    async with async_sessionmaker(engine)() as s:
        session = await fake.get_session(s, session_of(checkout))
    assert session["success_url"].endswith(f"/circle/vouchers/{voucher_id}?done=paid")
    assert session["cancel_url"].endswith(f"/circle/vouchers/{voucher_id}")
    waiting = (await pay.get(f"/circle/vouchers/{voucher_id}")).text
    assert "data-pay-cash" in waiting and checkout in waiting
    confirming = (await pay.get(f"/circle/vouchers/{voucher_id}?done=paid")).text
    assert "付款已提交，正在等待支付服务确认" in confirming, confirming
    # The page asks again by itself (it said "reload this page in a minute"), for about a minute,
    # and a Refresh link asks by hand, without JavaScript too.
    polled = f'hx-get="/circle/vouchers/{voucher_id}?done=paid&amp;n=1" hx-trigger="every 3s"'
    assert polled in confirming and f'href="/circle/vouchers/{voucher_id}?done=paid">刷新' in confirming
    assert "一分钟后刷新" not in confirming
    tired = (await pay.get(f"/circle/vouchers/{voucher_id}?done=paid&n=20")).text
    assert "付款已提交" in tired and "hx-trigger" not in tired
    english = (
        await pay.get(f"/circle/vouchers/{voucher_id}?done=paid", headers={"Accept-Language": "en"})
    ).text
    assert "Payment sent; waiting for the payment service to confirm it." in english
    assert "Reload this page in a minute" not in english
    await deliver(pay, await fake_step(engine, "pay", session_of(checkout)))  # type: ignore[arg-type]
    await apply_waiting(engine)
    paid = (await pay.get(f"/circle/vouchers/{voucher_id}?done=paid")).text
    assert "已付款。请向服务方出示下面的券码。" in paid and "data-pay-cash" not in paid
    await ledger_ok(db, circle.community_id)


async def _apply_one(engine: Any, event: dict[str, Any]) -> str:
    """One event applied in a transaction of its own, as a run of the job would."""
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        return await stripe_events.apply(s, event["type"], event["data"]["object"])


async def test_a_completion_and_a_refund_in_part_applied_at_once_leave_the_voucher_cancelled(
    pay: Any, factory: Any, engine: Any, db: Any
):
    """Two runs of the job apply a voucher's completion and a refund of part of it at the same
    moment, in either order: the voucher ends cancelled with its points back, its payment paid
    with the part refunded (the rest is then asked back), every round."""
    circle = await _circle(pay, factory, engine)
    rounds = 5
    await give_points(engine, circle.community_id, circle.resident.user_id, 10 * rounds)
    offer = await make_offer(pay, circle, points_price=10, cash_price_cents=900)
    for _ in range(rounds):
        bought = await _buy(pay, circle, offer)
        completed = await fake_step(engine, "pay", session_of(bought["checkout_url"]))
        refunded = await fake_refund(engine, session_of(bought["checkout_url"]), amount=200)
        assert completed is not None and refunded is not None
        outcomes = await asyncio.gather(_apply_one(engine, completed), _apply_one(engine, refunded))
        assert sorted(outcomes) == ["paid", "refunded_in_part"], outcomes
        assert (await _voucher(pay, circle, bought["id"]))["status"] == "cancelled"
        assert await _payment(db, bought["id"]) == ("paid", 200, 900)
        await ledger_ok(db, circle.community_id)
    wallet = await _wallet(pay, circle)
    assert (wallet["balance"], wallet["held"]) == (10 * rounds, 0)


async def test_a_voucher_bought_for_a_resident_is_paid_by_its_buyer_from_its_page(
    pay: Any, factory: Any, engine: Any, db: Any
):
    """A grid worker buys a home visit with a cash part for a resident without a phone: the way to
    pay was offered only to the voucher's owner, who has none. The buyer lands on the voucher's
    page, which offers them the payment (the resident's money, or their card on the payment
    page); opening it is audited as the purchase is, and the paid voucher shows its code."""
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    visit = await make_offer(pay, circle, points_price=10, cash_price_cents=2500, home_visit=True)
    await page_session(pay, circle.grid)
    bought = await post_form(
        pay,
        f"/circle/offers/{visit}/buy",
        {"key": "for-her", "confirm": "1", "for_user": str(circle.resident.user_id)},
    )
    assert bought.status_code == 303, bought.text
    landing = bought.headers["location"]
    voucher_id = await db.scalar(
        text("SELECT id FROM circle_vouchers WHERE offer_id = :o AND placed_by = :g"),
        {"o": visit, "g": circle.grid.user_id},
    )
    assert landing == f"/circle/vouchers/{voucher_id}?done=bought"
    page = (await pay.get(landing)).text
    assert "data-pay-cash" in page and f'action="/circle/vouchers/{voucher_id}/pay"' in page
    assert "现在为郑美玉付款" in page and "25.00" in page
    english = (await pay.get(landing, headers={"Accept-Language": "en"})).text
    assert "Pay it now for 郑美玉: with the money they give you" in english
    paying = await post_form(pay, f"/circle/vouchers/{voucher_id}/pay")
    assert paying.status_code == 303 and "/offline-stripe/pay/cs_test_" in paying.headers["location"]
    await db.rollback()
    audited = await db.scalar(
        text(
            "SELECT count(*) FROM audit_entries WHERE action = 'circle.voucher_cash_payment_for_resident' "
            "AND target = :t AND actor_id = :g"
        ),
        {"t": f"circle_voucher:{voucher_id}", "g": circle.grid.user_id},
    )
    assert audited == 1
    # No one else pays it: a neighbour is told there is no such voucher.
    await page_session(pay, circle.neighbour)
    assert (await post_form(pay, f"/circle/vouchers/{voucher_id}/pay")).status_code == 404
    await deliver(pay, await fake_step(engine, "pay", session_of(paying.headers["location"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    await page_session(pay, circle.grid)
    paid = (await pay.get(f"/circle/vouchers/{voucher_id}?done=paid")).text
    assert 'data-status="held"' in paid and "data-pay-cash" not in paid
    again = await post_form(pay, f"/circle/vouchers/{voucher_id}/pay")
    assert again.status_code == 409 and "这张服务券已没有需要支付的款项。" in again.text
    await ledger_ok(db, circle.community_id)
