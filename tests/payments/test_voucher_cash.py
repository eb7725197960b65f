"""The cash part of a voucher, where money and service could both go back to the resident or a
payer be left without a way to pay: a buy form sent again, refunds in part, refunds Stripe
refuses, and Stripe's events out of order. The ledger's invariants hold after each."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.api.helpers import post_form
from tests.api.helpers import session_of as page_session
from tests.circle.conftest import give_points, make_offer
from tests.payments.conftest import ledger_ok, session_of
from tests.payments.test_vouchers import _circle


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
