"""A shop's own page shows the month before this one as the community keeps its statement: on
the first of a month the page showed only the new month, and what the shop was owed for the last
one, closed or paid, was on no page it could open."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from app.circle import statements
from app.core import clock
from app.core.authz import Actor
from tests.api.helpers import loose_dates, page_login
from tests.api.helpers import words as text_of
from tests.circle.conftest import Circle, give_points, make_offer
from tests.circle.test_statements import _redeem

ZONE = "Asia/Shanghai"


def _months() -> tuple[str, str, str]:
    this_month = clock.month_of(clock.now(), ZONE)
    last = clock.previous_month(this_month)
    return clock.month_text(this_month), clock.month_text(last), clock.month_text(clock.previous_month(last))


def _section(page: str) -> str:
    return page.split('<section class="part" id="months"', 1)[1].split("</section>", 1)[0]


async def test_the_shop_page_shows_last_months_statement_closed_or_not(
    client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    offer_id = await make_offer(client, circle, points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 200)
    last_ids = await _redeem(client, circle, offer_id, 2)
    await _redeem(client, circle, offer_id, 1)  # this month's
    this_text, last_text, before_text = _months()
    last_month = clock.parse_month(last_text)
    assert last_month is not None
    start, _end = clock.month_bounds(last_month, ZONE)
    await db.execute(
        text("UPDATE circle_vouchers SET redeemed_at = :at WHERE id = ANY(:ids)"),
        {"at": start + timedelta(days=3), "ids": last_ids},
    )
    await db.commit()
    await page_login(client, circle.barber)
    shop = f"/circle/shop/{circle.barber_id}"
    page = await client.get(shop)
    assert page.status_code == 200
    month = _section(page.text)
    assert f'data-earlier-month="{last_text}"' in page.text and "往月结算" in month
    assert f"{last_text} · " in text_of(month) and 'data-statement-status="open">未结账' in month
    assert loose_dates(page.text, months=True) == []  # each month kept whole on a narrow line
    assert "<strong>2</strong>" in month and "<strong>30</strong>" in month
    assert "社区尚未结账" in month
    # The shop's first month: no way back into the months before it.
    assert "data-month-before" not in month and "data-month-after" not in month
    # Closed by the community's admin, it says so and what the shop is paid.
    admin = Actor(circle.admin.user_id, "管理员", {circle.community_id: frozenset({"admin"})})
    await statements.close_month(db, admin, circle.community_id, circle.barber_id, last_month)
    await db.commit()
    month = _section((await client.get(shop)).text)
    assert 'data-statement-status="closed">已结账，待付款' in month and "社区已结账" in month
    english = _section((await client.get(shop, headers={"Accept-Language": "en"})).text)
    assert "Closed, not paid yet" in english and "Earlier months" in english
    # The month before it, and back; this month or no month at all reads last month.
    older_page = (await client.get(shop, params={"month": before_text})).text
    assert f'data-earlier-month="{before_text}"' in older_page
    assert f'href="{shop}?month={last_text}#months"' in _section(older_page)
    for asked in (this_text, "2099-01", "上个月"):
        again = await client.get(shop, params={"month": asked})
        assert again.status_code == 200 and f'data-earlier-month="{last_text}"' in again.text, asked


async def test_a_month_without_a_voucher_says_there_was_nothing_to_settle(
    client: Any, circle: Circle, db: Any
) -> None:
    """A month in which no voucher was redeemed at the shop said the community would pay it, or
    had paid it, 0.00 元: it says there was nothing to settle, open, closed or marked paid."""
    _this_text, last_text, _before_text = _months()
    last_month = clock.parse_month(last_text)
    assert last_month is not None
    await page_login(client, circle.barber)
    shop = f"/circle/shop/{circle.barber_id}"
    admin = Actor(circle.admin.user_id, "管理员", {circle.community_id: frozenset({"admin"})})
    for step in ("open", "closed", "paid"):
        if step == "closed":
            await statements.close_month(db, admin, circle.community_id, circle.barber_id, last_month)
        if step == "paid":
            await statements.mark_paid(db, admin, circle.community_id, circle.barber_id, last_month)
        await db.commit()
        for lang, words in (
            ("zh-CN", f"{last_text}本店没有核销服务券，这个月无需结算。"),
            ("en", f"No vouchers were redeemed at your shop in {last_text}: there was nothing to settle"),
        ):
            page = await client.get(shop, headers={"Accept-Language": lang})
            month = _section(page.text)
            assert 'data-statement-status="none">' in month and words in text_of(month), (step, lang)
            assert loose_dates(page.text, months=True) == [], (step, lang)
            assert "0.00" not in month and "¥" not in month and "元" not in month, (step, lang)


async def test_the_earlier_months_go_back_to_the_shops_first_month_and_no_further(
    client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    """ "Month before" led on, month after month, into the years before the shop took its first
    voucher, each reading "nothing to settle"."""
    offer_id = await make_offer(client, circle, points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    first_ids = await _redeem(client, circle, offer_id, 1)
    _this_text, last_text, before_text = _months()
    before_month = clock.parse_month(before_text)
    assert before_month is not None
    start, _end = clock.month_bounds(before_month, ZONE)
    await db.execute(
        text("UPDATE circle_vouchers SET redeemed_at = :at WHERE id = ANY(:ids)"),
        {"at": start + timedelta(days=3), "ids": first_ids},
    )
    await db.commit()
    await page_login(client, circle.barber)
    shop = f"/circle/shop/{circle.barber_id}"
    last = _section((await client.get(shop)).text)  # last month, nothing in it but after the first
    assert f'href="{shop}?month={before_text}#months"' in last, last
    first = _section((await client.get(shop, params={"month": before_text})).text)
    assert "<strong>1</strong>" in first and "data-month-before" not in first, first
    assert f'href="{shop}?month={last_text}#months"' in first
