"""A voucher waiting for its cash part says how much cash is owed to everyone who sees it: the
resident's list of vouchers read only 待支付, and its page said "waiting for payment of the cash
part" with the amount on the pay button alone, which the shop (and a resident whose Checkout was
not open) never saw."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.api.helpers import post_form
from tests.api.helpers import session_of as page_session
from tests.circle.conftest import give_points, make_offer
from tests.payments.conftest import apply_waiting, deliver, fake_step, session_of
from tests.payments.test_vouchers import _buy, _circle

EN = {"Accept-Language": "en"}


async def test_a_voucher_waiting_for_its_cash_says_how_much_on_its_page_the_list_and_the_shops(
    pay: Any, factory: Any, engine: Any
) -> None:
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    offer = await make_offer(pay, circle, name="家电清洗", points_price=50, cash_price_cents=2050)
    bought = await _buy(pay, circle, offer)
    assert bought["status"] == "awaiting_payment"
    await page_session(pay, circle.resident)
    mine = (await pay.get("/circle/me/vouchers")).text
    row = mine.split(f'data-voucher="{bought["id"]}"', 1)[1].split("</li>", 1)[0]
    assert "待支付" in row and "20.50元" in row, row
    # Listed with the vouchers ready to use, under a heading that says it is not ready yet.
    assert "<h2 data-open-heading>待使用或待支付</h2>" in mine, mine
    english = (await pay.get("/circle/me/vouchers", headers=EN)).text
    row = english.split(f'data-voucher="{bought["id"]}"', 1)[1].split("</li>", 1)[0]
    assert "20.50 yuan cash to pay" in row, row
    for person in (circle.resident, circle.barber):
        await page_session(pay, person)
        page = await pay.get(f"/circle/vouchers/{bought['id']}", headers=EN)
        assert page.status_code == 200, page.text
        owed = page.text.split("data-cash-owed>", 1)[1].split("</p>", 1)[0]
        assert owed == "Waiting for payment of the cash part: 20.50 yuan still to pay.", owed
        zh = (await pay.get(f"/circle/vouchers/{bought['id']}")).text
        assert "20.50元" in zh.split("data-cash-owed>", 1)[1].split("</p>", 1)[0]


async def test_the_shop_is_told_a_vouchers_cash_part_was_paid_online_before_it_redeems(
    pay: Any, factory: Any, engine: Any, db: Any
) -> None:
    """The shop's preview of a voucher said its points alone: whether its cash part was paid, or
    was still to take at the counter, was nowhere, and a shop could ask for the money twice."""
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    offer = await make_offer(pay, circle, name="家电清洗", points_price=50, cash_price_cents=2050)
    bought = await _buy(pay, circle, offer)
    await deliver(pay, await fake_step(engine, "pay", session_of(bought["checkout_url"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    digits = await db.scalar(text("SELECT digits FROM circle_vouchers WHERE id = :v"), {"v": bought["id"]})
    await page_session(pay, circle.barber)
    for lang, said in (
        ("en", "Its cash part of 20.50 yuan was paid online"),
        ("zh-CN", "现金部分20.50元已在线支付"),
    ):
        preview = await post_form(
            pay,
            f"/circle/shop/{circle.barber_id}/scan",
            {"code": digits, "via": "typed"},
            headers={"HX-Request": "true", "Accept-Language": lang},
        )
        assert 'data-result="voucher_ready"' in preview.text, preview.text
        assert said in preview.text.split("data-cash-paid>", 1)[1].split("</p>", 1)[0], preview.text


async def test_a_voucher_whose_cash_part_was_paid_says_so_to_its_resident(
    pay: Any, factory: Any, engine: Any
) -> None:
    """Paid, the voucher's page and My vouchers read 50 积分 and nothing of the 20.50 yuan paid
    for it: the resident saw the cash once, on the payment's own notice, and the shop alone was
    told it had been paid."""
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    offer = await make_offer(pay, circle, name="家电清洗", points_price=50, cash_price_cents=2050)
    bought = await _buy(pay, circle, offer)
    await deliver(pay, await fake_step(engine, "pay", session_of(bought["checkout_url"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    await page_session(pay, circle.resident)
    page = (await pay.get(f"/circle/vouchers/{bought['id']}")).text
    assert 'data-status="held"' in page
    paid = page.split("data-cash-paid>", 1)[1].split("</p>", 1)[0]
    assert paid == "现金部分20.50元已在线支付。", paid
    english = (await pay.get(f"/circle/vouchers/{bought['id']}", headers=EN)).text
    assert "Its cash part of 20.50 yuan was paid online." in english
    mine = (await pay.get("/circle/me/vouchers")).text
    row = mine.split(f'data-voucher="{bought["id"]}"', 1)[1].split("</li>", 1)[0]
    assert "已付现金20.50元" in row, row
