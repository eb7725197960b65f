"""The month's statements after the admin closes a provider's month or marks it paid: the page
says which provider's month that was and what comes next."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from app.core import clock
from tests.api.helpers import page_login, post_form
from tests.circle.conftest import Circle


async def test_closing_a_month_and_marking_it_paid_say_which_provider_they_were_for(
    client: Any, circle: Circle, db: Any
) -> None:
    """Both steps sent the admin back to the top of the month's table without a word, its rows
    all alike but for one status; the page now says whose month was closed, what to pay and
    from which fund, then that it is paid."""
    this_month = clock.month_of(clock.now(), "Asia/Shanghai")
    last = clock.month_text((this_month.replace(day=1) - timedelta(days=1)).replace(day=1))
    name = (
        await db.execute(text("SELECT name FROM organisations WHERE id = :o"), {"o": circle.barber_id})
    ).scalar_one()
    await page_login(client, circle.admin)
    url = f"/circle/admin/c/{circle.community_id}/statements/{circle.barber_id}"
    closed = await post_form(client, url, {"month": last, "step": "close", "confirm": "1"})
    assert closed.status_code == 303, closed.text
    page = await client.get(closed.headers["location"])
    assert page.status_code == 200 and 'data-done="closed"' in page.text
    assert (
        f"已为“{name}”结清 {last} 的账：应由财政支付0.00元。款项付给服务商后，请标记为已支付。" in page.text
    )
    paid = await post_form(client, url, {"month": last, "step": "paid", "confirm": "1"})
    page = await client.get(paid.headers["location"])
    assert f"已标记“{name}” {last} 的款项已支付。" in page.text
    english = await client.get(paid.headers["location"], headers={"Accept-Language": "en"})
    assert f"{last} of {name} is marked paid." in english.text
    # Read again later, or with another provider named, the page says nothing.
    plain = await client.get(f"/circle/admin/c/{circle.community_id}/statements?month={last}")
    assert "data-done" not in plain.text
    other = await client.get(
        f"/circle/admin/c/{circle.community_id}/statements?month={last}&done=paid&provider={circle.cleaner_id}"
    )
    assert other.status_code == 200 and "data-done" not in other.text


async def test_the_statement_pages_without_a_month_show_the_month_before_this_one(
    client: Any, circle: Circle
) -> None:
    """The month's table and a provider's confirmation read the same month when none is named:
    the month before this one where the community is, which may be closed, and both refuse a
    month that is none."""
    last = clock.month_text(clock.previous_month(clock.month_of(clock.now(), "Asia/Shanghai")))
    base = f"/circle/admin/c/{circle.community_id}/statements"
    await page_login(client, circle.admin)
    table = await client.get(base)
    assert table.status_code == 200 and f"<h2>{last}</h2>" in table.text
    assert f'href="{base}/{circle.barber_id}?month={last}&step=close"' in table.text
    assert 'role="alert"' not in table.text
    confirm = await client.get(f"{base}/{circle.barber_id}")
    assert confirm.status_code == 200 and f'name="month" value="{last}"' in confirm.text
    refused = await client.get(f"{base}/{circle.barber_id}", params={"month": "上个月"})
    assert refused.status_code == 422


async def test_the_statements_page_refuses_a_month_that_is_none_as_the_store_report_does(
    client: Any, circle: Circle
) -> None:
    """A `?month=` that is no month showed last month's table without a word, as if it had been
    asked for; the store's report answers the same address with its reason (422). The statements
    page now says why, in the reader's language, above the month before this one."""
    last = clock.month_text(clock.previous_month(clock.month_of(clock.now(), "Asia/Shanghai")))
    base = f"/circle/admin/c/{circle.community_id}/statements"
    await page_login(client, circle.admin)
    for asked in ("上个月", "2026-13", "2026-3x"):
        table = await client.get(base, params={"month": asked})
        assert table.status_code == 422, asked
        assert '<div class="alert" role="alert">月份格式为YYYY-MM，例如2026-03。</div>' in table.text
        assert f"<h2>{last}</h2>" in table.text
    english = await client.get(base, params={"month": "last"}, headers={"Accept-Language": "en"})
    assert english.status_code == 422
    assert "The month is written YYYY-MM, such as 2026-03." in english.text
    report = await client.get(f"/store/admin/c/{circle.community_id}/report", params={"month": "last"})
    assert report.status_code == 422
