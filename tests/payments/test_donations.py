"""Donations to a wish's and a project's funding goal through Checkout (API.md "Money"), with
the real stripe library against the offline test Stripe."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.payments import fake, gateway
from tests.api.helpers import post_form
from tests.conftest import login
from tests.payments.conftest import (
    apply_waiting,
    deliver,
    donate,
    fake_step,
    funded,
    ledger_ok,
    session_of,
    wish_with_goal,
)


async def test_a_donation_reaches_the_wish_once_its_checkout_completes(
    pay: Any, factory: Any, engine: Any, db: Any
):
    goal = await wish_with_goal(pay, factory)
    answer = await donate(pay, goal, 12_000, "d1", name="陈阿姨")
    assert "/offline-stripe/pay/cs_test_" in answer["checkout_url"]
    row = (
        await db.execute(
            text("SELECT status, amount_cents, session_id FROM payments WHERE id = :id"),
            {"id": answer["donation_id"]},
        )
    ).one()
    assert (row.status, row.amount_cents, row.session_id) == (
        "open",
        12_000,
        session_of(answer["checkout_url"]),
    )
    assert await funded(pay, goal) == 0

    event = await fake_step(engine, "pay", session_of(answer["checkout_url"]))
    assert event is not None and event["data"]["object"]["metadata"] == {
        "jinlin_kind": "donation",
        "jinlin_id": str(answer["donation_id"]),
    }
    assert (await deliver(pay, event)).status_code == 200
    # Acknowledged at once and applied by the job, which the stored event wakes: a served app's
    # job worker on this database may apply it before this test's own run does.
    await apply_waiting(engine)
    assert await funded(pay, goal) == 12_000
    await ledger_ok(db, goal.community_id)


async def test_a_repeated_key_answers_the_first_donation(pay: Any, factory: Any):
    goal = await wish_with_goal(pay, factory)
    first = await donate(pay, goal, 5_000, "same")
    again = await donate(pay, goal, 5_000, "same")
    assert again == first
    changed = await pay.post(
        f"/api/v1/wishes/{goal.wish_id}/donations",
        json={"amount_cents": 6_000, "idempotency_key": "same"},
        headers=goal.resident.headers,
    )
    assert changed.status_code == 409 and changed.json()["code"] == "conflict"


async def test_ten_copies_of_one_donation_sent_at_once_make_one_payment(pay: Any, factory: Any, db: Any):
    goal = await wish_with_goal(pay, factory)
    body = {"amount_cents": 5_000, "idempotency_key": "double-tap"}
    answers = await asyncio.gather(
        *(
            pay.post(f"/api/v1/wishes/{goal.wish_id}/donations", json=body, headers=goal.resident.headers)
            for _ in range(10)
        )
    )
    assert [a.status_code for a in answers] == [201] * 10, [a.text for a in answers]
    assert len({(a.json()["donation_id"], a.json()["checkout_url"]) for a in answers}) == 1
    made = await db.execute(
        text("SELECT count(*) FROM payments WHERE target_kind = 'wish' AND target_id = :w"),
        {"w": goal.wish_id},
    )
    assert made.scalar_one() == 1


async def test_a_donation_over_the_goal_is_accepted_and_the_goal_shown_exceeded(
    pay: Any, factory: Any, engine: Any, db: Any
):
    goal = await wish_with_goal(pay, factory, goal_cents=10_000)
    answer = await donate(pay, goal, 15_000, "big", name="福州某公司")
    await deliver(pay, await fake_step(engine, "pay", session_of(answer["checkout_url"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    assert await funded(pay, goal) == 15_000
    page = await pay.get(f"/fund/wish/{goal.wish_id}")
    assert page.status_code == 200
    assert "Goal exceeded" in page.text or "已超出目标" in page.text
    assert "150.00" in page.text and "福州某公司" in page.text  # the API's display_name is the name to show
    await ledger_ok(db, goal.community_id)


async def test_no_goal_is_a_conflict_and_an_unknown_wish_not_found(pay: Any, factory: Any):
    tenant = await factory.tenant()
    admin = await login(pay, tenant.admin)
    resident = await login(pay, await factory.person(tenant))
    wish = await pay.post(
        f"/api/v1/communities/{tenant.community_id}/wishes", json={"title": "轮椅"}, headers=resident.headers
    )
    wish_id = wish.json()["id"]
    await pay.post(f"/api/v1/wishes/{wish_id}/review", json={"decision": "publish"}, headers=admin.headers)
    body = {"amount_cents": 1000, "idempotency_key": "x"}
    answer = await pay.post(f"/api/v1/wishes/{wish_id}/donations", json=body, headers=resident.headers)
    assert answer.status_code == 409 and answer.json()["code"] == "conflict"
    missing = await pay.post("/api/v1/wishes/999999999/donations", json=body, headers=resident.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


async def test_a_wish_under_review_or_rejected_takes_no_donation(pay: Any, factory: Any, db: Any):
    """Members see a wish before it is published, and after it is rejected: its funding page
    offered them the donation form and the API took their money, for a wish that may never be
    in the pool (the funding targets' own rule: donations once it is public)."""
    tenant = await factory.tenant()
    admin = await login(pay, tenant.admin)
    resident = await login(pay, await factory.person(tenant))
    asked = []
    for title in ("助听器", "轮椅"):
        wish = await pay.post(
            f"/api/v1/communities/{tenant.community_id}/wishes",
            json={"title": title, "funding_goal_cents": 50_000},
            headers=resident.headers,
        )
        assert wish.status_code == 201, wish.text
        asked.append(wish.json()["id"])
    under_review, rejected = asked
    review = await pay.post(
        f"/api/v1/wishes/{rejected}/review",
        json={"decision": "reject", "note": "重复"},
        headers=admin.headers,
    )
    assert review.status_code == 200, review.text
    for wish_id in (under_review, rejected):
        body = {"amount_cents": 1000, "idempotency_key": f"early-{wish_id}"}
        answer = await pay.post(f"/api/v1/wishes/{wish_id}/donations", json=body, headers=resident.headers)
        assert answer.status_code == 409 and answer.json()["code"] == "conflict", answer.text
        page = await pay.get(f"/fund/wish/{wish_id}", headers=resident.headers)
        assert page.status_code == 200 and "data-not-taking" in page.text and 'name="amount"' not in page.text
        made = await db.scalar(
            text("SELECT count(*) FROM payments WHERE target_kind = 'wish' AND target_id = :w"),
            {"w": wish_id},
        )
        assert made == 0


async def test_payments_off_without_a_stripe_key(client: Any, factory: Any, settings: Any):
    """The tests' in-process app has no key and no offline test Stripe: payments are off."""
    assert gateway.config_for(settings) is None
    goal = await wish_with_goal(client, factory)
    answer = await client.post(
        f"/api/v1/wishes/{goal.wish_id}/donations",
        json={"amount_cents": 1000, "idempotency_key": "k"},
        headers=goal.resident.headers,
    )
    assert answer.status_code == 503 and answer.json()["code"] == "payments_off"
    page = await client.get(f"/fund/wish/{goal.wish_id}")
    assert page.status_code == 200 and 'action="/fund/wish/' not in page.text  # no form to pay with
    assert (await client.post("/stripe/webhook", content=b"{}")).status_code == 503


async def test_a_project_takes_donations_too(pay: Any, factory: Any, engine: Any, db: Any):
    tenant = await factory.tenant()
    admin = await login(pay, tenant.admin)
    project = await pay.post(
        f"/api/v1/communities/{tenant.community_id}/projects",
        json={
            "title": "路灯电缆",
            "owner_user_id": tenant.admin.user_id,
            "due_on": "2030-01-01",
            "funding_goal_cents": 800_000,
        },
        headers=admin.headers,
    )
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    answer = await pay.post(
        f"/api/v1/projects/{project_id}/donations",
        json={"amount_cents": 20_000, "idempotency_key": "p1"},
        headers=admin.headers,
    )
    assert answer.status_code == 201, answer.text
    await deliver(pay, await fake_step(engine, "pay", session_of(answer.json()["checkout_url"])))  # type: ignore[arg-type]
    await apply_waiting(engine)
    total = (await db.execute(text("SELECT funding_total('project', :id)"), {"id": project_id})).scalar_one()
    assert total == 20_000
    await ledger_ok(db, tenant.community_id)


async def test_the_test_payment_page_names_the_payment_methods_in_words(pay: Any, factory: Any) -> None:
    """The demo's payment page read 支付方式：wechat_pay, alipay, card: Stripe's names, not a person's."""
    goal = await wish_with_goal(pay, factory)
    answer = await donate(pay, goal, 2_000, "words-1")
    page = await pay.get(answer["checkout_url"], headers={"Accept-Language": "zh-CN"})
    # The offline test Stripe offers what a Chinese account does: WeChat Pay, Alipay and cards.
    assert "data-methods>支付方式：微信支付、支付宝、银行卡</p>" in page.text
    english = await pay.get(answer["checkout_url"], headers={"Accept-Language": "en"})
    assert "data-methods>Payment methods: WeChat Pay, Alipay, Bank card</p>" in english.text


async def test_the_test_payment_page_names_what_is_paid_for_above_the_amount(pay: Any, factory: Any):
    """The offline test Stripe's page showed ¥120.00 and nothing of what it was for; it names
    the wish, as Stripe's own page names the line item."""
    goal = await wish_with_goal(pay, factory)
    answer = await donate(pay, goal, 12_000, "named")
    page = await pay.get(answer["checkout_url"], headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200, page.text[:300]
    named = page.text.split("<h2 data-item-name>", 1)[1].split("</h2>", 1)[0]
    assert named == "楼道扶手"
    assert page.text.index("data-item-name") < page.text.index("120.00")


async def test_the_page_a_donor_returns_to_says_when_the_payment_is_confirmed(
    pay: Any, factory: Any, engine: Any
) -> None:
    """Back from Checkout, the page said "付款正在确认中" until the donor tapped Refresh, even
    after the webhook had confirmed it. It finds the payment by the session id Stripe fills into
    the success URL, and its notice asks again every few seconds, until it is confirmed."""
    goal = await wish_with_goal(pay, factory)
    answer = await donate(pay, goal, 5_000, "back-1")
    session_id = session_of(answer["checkout_url"])
    async with async_sessionmaker(engine)() as s:
        stored = await fake.get_session(s, session_id)
    assert stored["success_url"].endswith("?paid=1&session_id={CHECKOUT_SESSION_ID}")
    back = fake.success_target(stored)
    assert back.endswith(f"/fund/wish/{goal.wish_id}?paid=1&session_id={session_id}")
    path = back[back.index("/fund/") :]

    event = await fake_step(engine, "pay", session_id)
    assert event is not None
    page = await pay.get(path)
    assert page.status_code == 200 and 'data-paid="pending"' in page.text and "付款正在确认中" in page.text
    assert (
        f'hx-get="/fund/wish/{goal.wish_id}?paid=1&amp;session_id={session_id}&amp;part=1&amp;n=1"'
        in page.text
    )
    part = await pay.get(f"{path}&part=1&n=1")
    assert part.status_code == 200 and part.text.lstrip().startswith('<div class="notice"')
    assert 'data-paid="pending"' in part.text and "&amp;n=2" in part.text

    assert (await deliver(pay, event)).status_code == 200
    await apply_waiting(engine)
    done = await pay.get(f"{path}&part=1&n=2")
    assert 'data-paid="confirmed"' in done.text and "hx-get" not in done.text
    assert "付款正在确认中" not in done.text and "谢谢您！付款已确认，已计入下方进度条。" in done.text
    # The answer brings the bar with the gift in it too.
    assert '<div id="fund-progress" hx-swap-oob="true">' in done.text
    assert 'data-funded-cents="5000"' in done.text and "fund-progress" not in part.text
    # After a minute of asking the notice stops asking; Refresh still asks by hand.
    other = session_of((await donate(pay, goal, 5_000, "back-2"))["checkout_url"])
    asking = await pay.get(f"/fund/wish/{goal.wish_id}?paid=1&session_id={other}&part=1&n=19")
    assert 'data-paid="pending"' in asking.text and "&amp;n=20" in asking.text
    late = await pay.get(f"/fund/wish/{goal.wish_id}?paid=1&session_id={other}&part=1&n=20")
    assert 'data-paid="pending"' in late.text and "hx-get" not in late.text
    assert f'href="/fund/wish/{goal.wish_id}?paid=1&amp;session_id={other}"' in late.text


async def test_a_wish_come_true_is_offered_no_more_donations_and_takes_none(
    pay: Any, factory: Any, engine: Any, db: Any
):
    """The pool offered 支持这个心愿 on a wish already come true, and its funding page and the
    API took money for it."""
    goal = await wish_with_goal(pay, factory)
    pool = await pay.get(f"/c/{goal.community_id}/wish-pool")
    assert f'href="/fund/wish/{goal.wish_id}"' in pool.text  # offered while it waits
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            text("UPDATE wishes SET status = 'delivered', claimed_by = :u WHERE id = :w"),
            {"w": goal.wish_id, "u": goal.admin.user_id},
        )
    pool = await pay.get(f"/c/{goal.community_id}/wish-pool")
    assert f'data-wish="{goal.wish_id}" data-wish-status="delivered"' in pool.text
    assert f'href="/fund/wish/{goal.wish_id}"' not in pool.text
    page = await pay.get(f"/fund/wish/{goal.wish_id}")
    assert page.status_code == 200 and "data-not-taking" in page.text and 'name="amount"' not in page.text
    body = {"amount_cents": 1000, "idempotency_key": "too-late"}
    answer = await pay.post(
        f"/api/v1/wishes/{goal.wish_id}/donations", json=body, headers=goal.resident.headers
    )
    assert answer.status_code == 409 and answer.json()["code"] == "conflict", answer.text
    assert answer.json()["detail"]
    form = await post_form(pay, f"/fund/wish/{goal.wish_id}", {"amount": "20", "key": "late-form"})
    assert form.status_code == 409 and "data-not-taking" in form.text, form.text[:500]
    made = await db.scalar(
        text("SELECT count(*) FROM payments WHERE target_kind = 'wish' AND target_id = :w"),
        {"w": goal.wish_id},
    )
    assert made == 0
