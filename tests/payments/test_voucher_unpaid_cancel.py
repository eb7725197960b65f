"""A voucher whose cash part is not paid yet can be cancelled from its page: it showed only the
button to pay, the cancel page sent it back, and its points stayed held and the month's place
taken until the Checkout expired, a day later. My vouchers says it waits for its payment."""

from __future__ import annotations

from typing import Any

from tests.api.helpers import post_form
from tests.api.helpers import session_of as page_session
from tests.circle.conftest import give_points, make_offer
from tests.payments.conftest import ledger_ok
from tests.payments.test_vouchers import _buy, _circle, _voucher, _wallet


async def test_a_voucher_waiting_for_its_payment_is_cancelled_from_its_page(
    pay: Any, factory: Any, engine: Any, db: Any
) -> None:
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    offer = await make_offer(pay, circle, name="家电清洗", points_price=50, cash_price_cents=2000)
    bought = await _buy(pay, circle, offer)
    assert bought["status"] == "awaiting_payment" and (await _wallet(pay, circle))["held"] == 50
    await page_session(pay, circle.resident)
    mine = (await pay.get("/circle/me/vouchers")).text
    row = mine.split(f'data-voucher="{bought["id"]}"', 1)[1].split("</li>", 1)[0]
    assert "待支付" in row
    page = (await pay.get(f"/circle/vouchers/{bought['id']}")).text
    assert f'href="/circle/vouchers/{bought["id"]}/cancel"' in page
    confirm = await pay.get(f"/circle/vouchers/{bought['id']}/cancel")
    assert confirm.status_code == 200 and "data-confirm-cancel" in confirm.text
    assert "50积分将退回账户" in confirm.text and "将在几天内原路退回" not in confirm.text
    done = await post_form(pay, f"/circle/vouchers/{bought['id']}/cancel", {"confirm": "1"})
    assert done.status_code == 303 and done.headers["location"].endswith("?done=cancelled")
    assert (await _voucher(pay, circle, bought["id"]))["status"] == "cancelled"
    wallet = await _wallet(pay, circle)
    assert wallet["held"] == 0 and wallet["available"] == 100
    await ledger_ok(db, circle.community_id)
