"""A provider's monthly statement shows the cash its vouchers' cash parts brought in beside the
points: per voucher and in total, on the statements page, in the API and in the CSV and XLSX
exports; a payment refunded after the service counts nothing; a closed month keeps its figure."""

from __future__ import annotations

import io
import secrets
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.circle import cash, statements
from app.circle import exports as circle_exports
from app.core import clock, exports
from app.core.authz import Actor
from app.core.figures import Scope
from app.core.i18n import translations
from app.partners import answers
from app.places.models import Community
from tests.api.helpers import page_login
from tests.circle.conftest import Circle, give_points, live_in, make_offer, make_provider
from tests.conftest import login
from tests.payments.conftest import apply_waiting, deliver, fake_refund, fake_step, ledger_ok, session_of

# The app runs in the live server's process; this one applies the Stripe events and closes the
# month itself, so it needs what the assembly would give it: the circle's payment kind and the
# partners' answers about providers.
assert cash.KIND == "voucher" and answers.organisations is not None


async def _circle(pay: Any, factory: Any, engine: Any) -> Circle:
    tenant = await factory.tenant()
    admin = await login(pay, tenant.admin)
    resident = await login(pay, await factory.person(tenant, name="郑美玉"))
    barber_id, barber = await make_provider(pay, tenant, admin, "老街理发", "barber", 26.0840, 119.2975)
    await live_in(engine, tenant.community_id, [resident.user_id], (26.0822, 119.2961))
    return Circle(tenant, admin, admin, resident, resident, barber_id, barber, barber_id, barber)


async def _bought_and_redeemed(
    pay: Any, engine: Any, circle: Circle, offer_id: int
) -> tuple[int, str | None]:
    """A voucher bought, its cash part (if any) paid, and redeemed: its id and Checkout session."""
    bought = await pay.post(
        "/api/v1/vouchers",
        json={"offer_id": offer_id, "idempotency_key": secrets.token_hex(6)},
        headers=circle.resident.headers,
    )
    assert bought.status_code == 201, bought.text
    voucher_id, checkout = int(bought.json()["id"]), bought.json().get("checkout_url")
    session = session_of(checkout) if checkout else None
    if session:
        await deliver(pay, await fake_step(engine, "pay", session))  # type: ignore[arg-type]
        await apply_waiting(engine)  # in this process: app.circle.cash's kind, registered at its import
    shown = (await pay.get(f"/api/v1/vouchers/{voucher_id}", headers=circle.resident.headers)).json()
    assert shown["status"] == "held", shown
    code = shown["voucher_code"]
    scan = await pay.post("/api/v1/scans", json={"code": code}, headers=circle.barber.headers)
    assert scan.status_code == 200 and scan.json()["result"] == "redeemed", scan.text
    return voucher_id, session


async def test_the_statement_shows_the_cash_collected_per_voucher_and_in_total(
    pay: Any, factory: Any, engine: Any, db: Any
) -> None:
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    haircut = await make_offer(pay, circle, name="理发加洗头", points_price=10, cash_price_cents=1500)
    shave = await make_offer(pay, circle, name="修面", points_price=5, cash_price_cents=800)
    plain = await make_offer(pay, circle, name="剪刘海", points_price=20)
    haircut_id, haircut_session = await _bought_and_redeemed(pay, engine, circle, haircut)
    shave_id, shave_session = await _bought_and_redeemed(pay, engine, circle, shave)
    plain_id, _none = await _bought_and_redeemed(pay, engine, circle, plain)
    # The shave's payment is refunded after the service: it brought in nothing.
    assert shave_session is not None and haircut_session is not None
    await deliver(pay, await fake_refund(engine, shave_session))  # type: ignore[arg-type]
    await apply_waiting(engine)
    # All three were redeemed last month, so that it can be closed.
    month = (clock.month_of(clock.now(), "Asia/Shanghai") - timedelta(days=1)).replace(day=1)
    start, _end = clock.month_bounds(month, "Asia/Shanghai")
    await db.execute(
        text("UPDATE circle_vouchers SET redeemed_at = :at WHERE id = ANY(:ids)"),
        {"at": start + timedelta(days=3), "ids": [haircut_id, shave_id, plain_id]},
    )
    await db.commit()

    admin = Actor(circle.admin.user_id, "管理员", {circle.community_id: frozenset({"admin"})})
    [barber] = [
        f
        for f in await statements.community_statements(db, admin, circle.community_id, month)
        if f.organisation_id == circle.barber_id
    ]
    assert (barber.vouchers, barber.points, barber.cash_collected_cents) == (3, 35, 1500)
    lines = await statements.cash_lines(db, circle.community_id, month)
    assert [(line.voucher_id, line.cash_cents, line.collected_cents) for line in lines] == [
        (haircut_id, 1500, 1500),
        (shave_id, 800, 0),
    ]
    answer = await pay.get(
        f"/api/v1/organisations/{circle.barber_id}/statements",
        params={"month": clock.month_text(month)},
        headers=circle.barber.headers,
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["points"], answer.json()["cash_cents_collected"]) == (35, 1500)

    # The statements page: the provider's total beside its points, the month's total, and each
    # voucher with a cash part.
    await page_login(pay, circle.admin)
    page = await pay.get(
        f"/circle/admin/c/{circle.community_id}/statements",
        params={"month": clock.month_text(month)},
        headers={"Accept-Language": "zh-CN"},
    )
    assert page.status_code == 200, page.text
    row = page.text[page.text.index(f'data-provider="{circle.barber_id}"') :]
    assert "15.00" in row[: row.index("</tr>")]
    total = page.text[page.text.index("data-total") :]
    assert "15.00" in total[: total.index("</tr>")]
    assert f'data-voucher="{haircut_id}"' in page.text and f'data-voucher="{shave_id}"' in page.text
    assert f'data-voucher="{plain_id}"' not in page.text
    shave_row = page.text[page.text.index(f'data-voucher="{shave_id}"') :]
    assert "已退款" in shave_row[: shave_row.index("</tr>")]

    # The exports: the statements with the provider's cash, and the cash parts voucher by voucher.
    community = await db.get(Community, circle.community_id)
    assert community is not None
    scope = Scope.of_month(community.id, month, community.time_zone)
    gettext = translations("zh").gettext
    found = exports.get(circle_exports.NAME)
    book = load_workbook(
        io.BytesIO(exports.file_of(found, "xlsx", await found.fn(db, scope), gettext, currency="cny"))
    )
    sheet = list(book.active.iter_rows(values_only=True))
    header = sheet[0]
    assert "线上支付的现金部分（元）" in header
    [mine] = sheet[1:]  # the community's one provider
    assert Decimal(str(mine[header.index("线上支付的现金部分（元）")])) == Decimal("15.00")
    cash = exports.get(circle_exports.CASH)
    csv_text = exports.file_of(cash, "csv", await cash.fn(db, scope), gettext, currency="cny").decode(
        "utf-8-sig"
    )
    body = csv_text.splitlines()[1:]
    assert len(body) == 2
    assert str(haircut_id) in body[0] and "15.00" in body[0]
    assert str(shave_id) in body[1] and body[1].endswith("0.00")
    taken = await pay.get(
        f"/circle/admin/c/{circle.community_id}/statements.csv",
        params={"month": clock.month_text(month), "part": "cash"},
    )
    assert taken.status_code == 200 and len(taken.content.decode("utf-8-sig").splitlines()) == 3

    # Closed, the month keeps its cash: a refund after that changes the ledger of money, not the
    # statement, and the database refuses to change it by hand.
    closed = await statements.close_month(db, admin, circle.community_id, circle.barber_id, month)
    await db.commit()
    assert (closed.status, closed.cash_collected_cents) == ("closed", 1500)
    await deliver(pay, await fake_refund(engine, haircut_session))  # type: ignore[arg-type]
    await apply_waiting(engine)
    [kept] = await statements.month_figures(db, circle.community_id, month, circle.barber_id)
    assert (kept.status, kept.cash_collected_cents) == ("closed", 1500)
    # The page showed the kept 15.00 beside lines that now bring in nothing, without a word: it
    # says which is which, in both languages.
    for language, words in (
        ("en", "the closed statement keeps 15.00"),
        ("zh-CN", "已结账的结算单保留结账时线上支付的15.00"),
    ):
        page = await pay.get(
            f"/circle/admin/c/{circle.community_id}/statements",
            params={"month": clock.month_text(month)},
            headers={"Accept-Language": language},
        )
        said = page.text[page.text.index(f'data-refunded-since="{circle.barber_id}"') :]
        assert words in said[: said.index("</p>")], language
    with pytest.raises(DBAPIError):
        await db.execute(
            text("UPDATE circle_statements SET cash_collected_cents = 0 WHERE organisation_id = :o"),
            {"o": circle.barber_id},
        )
    await db.rollback()
    await ledger_ok(db, circle.community_id)


async def test_a_cash_part_refunded_in_part_after_the_service_counts_what_stayed(
    pay: Any, factory: Any, engine: Any, db: Any
) -> None:
    """5 of a used voucher's 15 yuan refunded afterwards (a goodwill refund in Stripe's dashboard):
    the statement still counted the whole 15 yuan as brought in, in the total, the line and the
    exports; it counts the 10 that stayed."""
    circle = await _circle(pay, factory, engine)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    haircut = await make_offer(pay, circle, name="理发加洗头", points_price=10, cash_price_cents=1500)
    voucher_id, session = await _bought_and_redeemed(pay, engine, circle, haircut)
    assert session is not None
    await deliver(pay, await fake_refund(engine, session, amount=500))  # type: ignore[arg-type]
    await apply_waiting(engine)
    month = clock.month_of(clock.now(), "Asia/Shanghai")
    admin = Actor(circle.admin.user_id, "管理员", {circle.community_id: frozenset({"admin"})})
    [barber] = [
        f
        for f in await statements.community_statements(db, admin, circle.community_id, month)
        if f.organisation_id == circle.barber_id
    ]
    assert (barber.vouchers, barber.points, barber.cash_collected_cents) == (1, 10, 1000)
    lines = await statements.cash_lines(db, circle.community_id, month)
    assert [(line.voucher_id, line.cash_cents, line.collected_cents) for line in lines] == [
        (voucher_id, 1500, 1000)
    ]
    await ledger_ok(db, circle.community_id)
