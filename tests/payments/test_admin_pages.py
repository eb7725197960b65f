"""The admin's money pages: contributions recorded by source on a form (audited, append-only),
donors' contact data for the community admin only, the refund's confirmation, CSV and XLSX."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.api.helpers import page_login, post_form
from tests.api.test_home_pages import street_admin_of
from tests.conftest import count, login
from tests.payments.conftest import apply_waiting, deliver, fake_step, session_of, wish_with_goal


async def test_the_admin_records_contributions_by_source_and_sees_donors_contacts(
    pay: Any, factory: Any, engine: Any, db: Any
) -> None:
    goal = await wish_with_goal(pay, factory, goal_cents=100_000)
    # An online donation with a contact, through the public page's form.
    answer = await post_form(
        pay,
        f"/fund/wish/{goal.wish_id}",
        {"amount": "20", "display_name": "匿名邻居", "contact": "139-0000-1234", "key": "k1"},
    )
    assert answer.status_code == 303, answer.text
    await deliver(pay, await fake_step(engine, "pay", session_of(answer.headers["location"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    public = await pay.get(f"/fund/wish/{goal.wish_id}")
    assert "20.00" in public.text and "匿名邻居" not in public.text and "139-0000-1234" not in public.text

    await page_login(pay, goal.admin)
    recorded = await post_form(
        pay,
        f"/payments/admin/wish/{goal.wish_id}/contributions",
        {
            "source": "government",
            "amount": "300",
            "name": "东街街道办事处",
            "show_name": "1",
            "note": "专项资金",
        },
    )
    assert recorded.status_code == 303, recorded.text
    refused = await post_form(
        pay,
        f"/payments/admin/wish/{goal.wish_id}/contributions",
        {"source": "online", "amount": "5", "name": "x"},
    )
    assert refused.status_code == 422
    page = await pay.get(f"/payments/admin/wish/{goal.wish_id}")
    assert page.status_code == 200
    assert "东街街道办事处" in page.text and "139-0000-1234" in page.text
    total = (await db.execute(text("SELECT funding_total('wish', :i)"), {"i": goal.wish_id})).scalar_one()
    assert total == 32_000
    audited = (
        await db.execute(
            text(
                "SELECT count(*) FROM audit_entries "
                "WHERE action = 'payments.contribution_recorded' AND target = :t"
            ),
            {"t": f"wish:{goal.wish_id}"},
        )
    ).scalar_one()
    assert audited == 1
    # Append-only: the database refuses to change a recorded row.
    with pytest.raises(DBAPIError):
        await db.execute(
            text("UPDATE funding_contributions SET amount_cents = 1 WHERE target_id = :i"),
            {"i": goal.wish_id},
        )
    await db.rollback()

    # The export of every contribution, which the page's links and the old addresses lead to.
    cid = goal.community_id
    old = await pay.get(f"/payments/admin/c/{cid}/contributions.csv")
    assert old.status_code == 303 and old.headers["location"] == f"/admin/c/{cid}/exports/contributions.csv"
    assert f"/admin/c/{cid}/exports/contributions.xlsx" in (await pay.get(f"/payments/admin/c/{cid}")).text
    csv_answer = await pay.get(f"/admin/c/{cid}/exports/contributions.csv")
    assert (
        csv_answer.status_code == 200 and "139-0000-1234" in csv_answer.text and "300.00" in csv_answer.text
    )
    xlsx = await pay.get(f"/admin/c/{cid}/exports/contributions.xlsx", headers={"Accept-Language": "en"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "When",
        "Kind",
        "Goal number",
        "Title",
        "Source",
        "Amount (yuan)",
        "Given by",
        "Name shown",
        "Note",
        "Payment number",
        "Entry number",
        "Corrects entry",
        "Contact",
    )
    by_source = {r[4]: r for r in rows[1:]}
    assert sorted(by_source) == ["Government (政府补)", "Online donations"]
    government, online = by_source["Government (政府补)"], by_source["Online donations"]
    assert government[1:9] == (
        "Micro-wish",
        goal.wish_id,
        "楼道扶手",
        "Government (政府补)",
        300,
        "东街街道办事处",
        "Yes",
        "专项资金",
    )
    assert government[9] is None and government[11] is None and government[12] is None
    assert online[5] == 20 and online[9] is not None and online[12] == "139-0000-1234"


async def test_a_resident_sees_no_admin_money_page_and_no_contact(pay: Any, factory: Any) -> None:
    goal = await wish_with_goal(pay, factory)
    await page_login(pay, goal.resident)
    assert (await pay.get(f"/payments/admin/wish/{goal.wish_id}")).status_code == 403
    assert (await pay.get(f"/payments/admin/c/{goal.community_id}/contributions.csv")).status_code == 403
    assert (await pay.get(f"/admin/c/{goal.community_id}/exports/contributions.csv")).status_code == 403


async def test_the_refund_asks_first_and_then_goes_to_stripe(
    pay: Any, factory: Any, engine: Any, db: Any
) -> None:
    goal = await wish_with_goal(pay, factory)
    admin = await login(pay, goal.admin)
    body = {"amount_cents": 7_700, "idempotency_key": "r1"}
    answer = await pay.post(
        f"/api/v1/wishes/{goal.wish_id}/donations", json=body, headers=goal.resident.headers
    )
    donation = answer.json()
    await deliver(pay, await fake_step(engine, "pay", session_of(donation["checkout_url"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    del admin
    await page_login(pay, goal.admin)
    confirm = await pay.get(f"/payments/admin/payments/{donation['donation_id']}/refund")
    assert confirm.status_code == 200 and ("cannot be undone" in confirm.text or "无法撤销" in confirm.text)
    done = await post_form(pay, f"/payments/admin/payments/{donation['donation_id']}/refund", {})
    assert done.status_code == 303, done.text
    asked = (
        await db.execute(
            text("SELECT refund_requested_at IS NOT NULL FROM payments WHERE id = :i"),
            {"i": donation["donation_id"]},
        )
    ).scalar_one()
    assert asked
    # Sent again (a double tap): it lands where the first landed, and Stripe is not asked twice.
    again = await post_form(pay, f"/payments/admin/payments/{donation['donation_id']}/refund", {})
    assert again.status_code == 303, again.text
    assert again.headers["location"] == done.headers["location"]
    await db.rollback()
    asked_times = await db.scalar(
        text("SELECT count(*) FROM audit_entries WHERE action = 'payments.refund_requested' AND target = :t"),
        {"t": f"payment:{donation['donation_id']}"},
    )
    assert asked_times == 1


async def test_a_contribution_form_sent_twice_records_it_once(pay: Any, factory: Any, db: Any) -> None:
    """A double tap on 记录 sent the form twice: the government's 300 yuan was recorded twice and
    the goal's total read 600. The form carries a key of its own; a second sending of it changes
    nothing, and a fresh form records a second contribution."""
    goal = await wish_with_goal(pay, factory, goal_cents=100_000)
    await page_login(pay, goal.admin)
    page = await pay.get(f"/payments/admin/wish/{goal.wish_id}")
    found = re.search(r'name="key" value="([^"]+)"', page.text)
    assert found is not None, "the form carries its key"
    form = {"source": "government", "amount": "300", "name": "东街街道办事处", "key": found.group(1)}
    url = f"/payments/admin/wish/{goal.wish_id}/contributions"
    for _ in range(2):
        answer = await post_form(pay, url, form)
        assert answer.status_code == 303, answer.text

    async def total() -> int:
        await db.rollback()
        return int(
            (await db.execute(text("SELECT funding_total('wish', :i)"), {"i": goal.wish_id})).scalar_one()
        )

    assert await total() == 30_000
    fresh = re.search(
        r'name="key" value="([^"]+)"', (await pay.get(f"/payments/admin/wish/{goal.wish_id}")).text
    )
    assert fresh is not None and fresh.group(1) != found.group(1)
    assert (await post_form(pay, url, {**form, "key": fresh.group(1)})).status_code == 303
    assert await total() == 60_000


async def test_a_contribution_above_the_whole_goal_is_asked_about_once_more(
    pay: Any, factory: Any, db: Any
) -> None:
    """1,000,000 yuan typed for 1,000 was recorded at once against a goal of 1,000, and a recorded
    contribution stays: more than the whole goal now comes back once, as typed, saying so, and
    is recorded when sent again as it is (a changed amount is checked again)."""
    goal = await wish_with_goal(pay, factory, goal_cents=100_000)
    await page_login(pay, goal.admin)
    url = f"/payments/admin/wish/{goal.wish_id}/contributions"
    form = {"source": "government", "amount": "1000000", "name": "东街街道办事处", "note": "专项资金"}
    asked = await post_form(pay, url, form)
    assert asked.status_code == 200 and "data-ask-again" in asked.text
    assert "1,000,000.00元 比整个筹款目标 1,000.00元 还多。" in asked.text
    assert 'value="1000000"' in asked.text and 'value="专项资金"' in asked.text
    total = text("SELECT funding_total('wish', :i)")
    assert (await db.execute(total, {"i": goal.wish_id})).scalar_one() == 0
    key = re.search(r'name="key" value="([^"]+)"', asked.text)
    assert key is not None
    changed = await post_form(
        pay, url, {**form, "amount": "2000000", "again": "100000000", "key": key.group(1)}
    )
    assert changed.status_code == 200 and "data-ask-again" in changed.text
    sent = await post_form(pay, url, {**form, "again": "100000000", "key": key.group(1)})
    assert sent.status_code == 303, sent.text
    await db.rollback()
    assert (await db.execute(total, {"i": goal.wish_id})).scalar_one() == 100_000_000
    # Within the goal, nothing is asked.
    within = await post_form(pay, url, {**form, "amount": "1000", "key": "within-goal"})
    assert within.status_code == 303


async def test_the_goal_page_opens_the_wish_itself_not_the_pool(
    pay: Any, factory: Any, engine: Any, db: Any
) -> None:
    """The admin's funding page of a wish said 打开它的页面 and opened the whole wish pool, a page
    of many where the wish was to be looked for (or on another page of it); it opens the wish."""
    goal = await wish_with_goal(pay, factory)
    await page_login(pay, goal.admin)
    page = (await pay.get(f"/payments/admin/wish/{goal.wish_id}")).text
    assert f'<a href="/wishes/{goal.wish_id}">打开它的页面</a>' in page
    # The street admin, who may read the goal but no wish's own page, and a visitor of the public
    # page are still led to the pool.
    street_id = await count(db, "SELECT street_id FROM communities WHERE id = :c", c=goal.community_id)
    await page_login(pay, await street_admin_of(engine, street_id))
    street = await pay.get(f"/payments/admin/wish/{goal.wish_id}")
    assert street.status_code == 200 and f'<a href="/c/{goal.community_id}/wish-pool">' in street.text
    public = (await pay.get(f"/fund/wish/{goal.wish_id}")).text
    assert "/wish-pool" in public
