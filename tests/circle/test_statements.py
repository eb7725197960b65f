"""Monthly statements: the sums equal the ledger's transfers, closing settles the points once, a
closed month cannot change, then it is marked paid; CSV and XLSX."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.circle import exports as circle_exports
from app.circle import statements
from app.core import clock, exports
from app.core.authz import Actor
from app.core.errors import DomainError
from app.core.figures import Scope
from app.core.i18n import translations
from app.core.uow import connection_of
from app.ledger import services as ledger
from app.ledger.verify import run_checks
from app.places.models import Community
from tests.circle.conftest import Circle, buy, give_points, make_offer


def _admin(circle: Circle) -> Actor:
    return Actor(circle.admin.user_id, "管理员", {circle.community_id: frozenset({"admin"})})


async def _redeem(client: Any, circle: Circle, offer_id: int, times: int) -> list[int]:
    ids = []
    for _ in range(times):
        bought = (await buy(client, circle.resident, offer_id)).json()
        done = await client.post(
            "/api/v1/scans", json={"code": bought["voucher_code"]}, headers=circle.barber.headers
        )
        assert done.status_code == 200, done.text
        ids.append(bought["id"])
    return ids


# 16:30 UTC on the last day of a month is 00:30 on the first of the next in Beijing: from 16:00 UTC
# until midnight UTC, "this month" of a community in Asia/Shanghai is not UTC's.
BEIJING_MONTH_TURNED = datetime(2030, 11, 30, 16, 30, tzinfo=UTC)


@pytest.fixture(params=["now", "beijing_month_turned"])
def moment(request: pytest.FixtureRequest) -> Iterator[None]:
    """The app's clock for the whole test (asked for first, so that its people log in then too)."""
    if request.param == "beijing_month_turned":
        clock.advance(BEIJING_MONTH_TURNED - clock.now())
    yield
    clock.reset()


async def test_closing_last_month_settles_what_the_ledger_says_and_then_nothing_changes(
    moment: None, client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    offer_id = await make_offer(client, circle, points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 200)
    last_month_ids = await _redeem(client, circle, offer_id, 3)
    this_month_ids = await _redeem(client, circle, offer_id, 1)
    now = clock.now()
    last_month = clock.month_of(now, "Asia/Shanghai") - timedelta(days=1)
    last_month = last_month.replace(day=1)
    # The three were redeemed last month (their transfers keep the moment they were posted).
    start, _end = clock.month_bounds(last_month, "Asia/Shanghai")
    await db.execute(
        text("UPDATE circle_vouchers SET redeemed_at = :at WHERE id = ANY(:ids)"),
        {"at": start + timedelta(days=3), "ids": last_month_ids},
    )
    await db.commit()
    admin = _admin(circle)
    figures = await statements.community_statements(db, admin, circle.community_id, last_month)
    barber = next(f for f in figures if f.organisation_id == circle.barber_id)
    assert (barber.vouchers, barber.points, barber.cash_cents_due, barber.status) == (3, 45, 450, "open")
    # The statement's points are the ledger's transfers of those vouchers.
    ledger_sum = await db.scalar(
        text(
            "SELECT sum(t.amount) FROM circle_vouchers v JOIN ledger_transfers t ON t.id = v.transfer_id "
            "WHERE v.id = ANY(:ids) AND t.kind = 'circle_voucher'"
        ),
        {"ids": last_month_ids},
    )
    assert ledger_sum == barber.points
    # This month (the community's) cannot be closed yet.
    with pytest.raises(DomainError) as exc:
        await statements.close_month(
            db, admin, circle.community_id, circle.barber_id, clock.month_of(now, "Asia/Shanghai")
        )
    assert exc.value.code == "conflict"
    closed = await statements.close_month(db, admin, circle.community_id, circle.barber_id, last_month)
    await db.commit()
    assert (closed.status, closed.points) == ("closed", 45)
    with pytest.raises(DomainError) as exc:
        await statements.close_month(db, admin, circle.community_id, circle.barber_id, last_month)
    assert exc.value.code == "already_done"
    await db.rollback()
    settled = await db.scalar(
        text(
            "SELECT sum(t.amount) FROM ledger_transfers t "
            "JOIN ledger_accounts a ON a.id = t.credit_account_id "
            "WHERE a.community_id = :c AND a.kind = 'settled'"
        ),
        {"c": circle.community_id},
    )
    assert settled == 45
    # What the provider's account still holds is this month's voucher.
    left = await db.scalar(
        text(
            "SELECT COALESCE(sum(CASE WHEN t.credit_account_id = a.id THEN t.amount ELSE -t.amount END), 0) "
            "FROM ledger_accounts a "
            "JOIN ledger_transfers t ON a.id IN (t.credit_account_id, t.debit_account_id) "
            "WHERE a.kind = 'provider' AND a.organisation_id = :o"
        ),
        {"o": circle.barber_id},
    )
    assert left == 15 * len(this_month_ids)
    # A closed month cannot change, even by hand: the database refuses.
    with pytest.raises(DBAPIError):
        await db.execute(
            text("UPDATE circle_statements SET points = 1 WHERE organisation_id = :o"),
            {"o": circle.barber_id},
        )
    await db.rollback()
    with pytest.raises(DBAPIError):
        await db.execute(
            text("DELETE FROM circle_statements WHERE organisation_id = :o"), {"o": circle.barber_id}
        )
    await db.rollback()
    paid = await statements.mark_paid(db, admin, circle.community_id, circle.barber_id, last_month)
    await db.commit()
    assert paid.status == "paid" and paid.points == 45
    answer = await client.get(
        f"/api/v1/organisations/{circle.barber_id}/statements",
        params={"month": clock.month_text(last_month)},
        headers=circle.barber.headers,
    )
    assert answer.json()["status"] == "paid" and answer.json()["points"] == 45
    # The month's statements as the circle's export, in Chinese: the status in the pages' words.
    community = await db.get(Community, circle.community_id)
    assert community is not None
    found = exports.get(circle_exports.NAME)
    rows = await found.fn(db, Scope.of_month(community.id, last_month, community.time_zone))
    gettext = translations("zh").gettext
    csv_text = exports.file_of(found, "csv", rows, gettext, currency="cny").decode("utf-8-sig")
    assert "45" in csv_text and "已支付" in csv_text
    book = load_workbook(io.BytesIO(exports.file_of(found, "xlsx", rows, gettext, currency="cny")))
    sheet = list(book.active.iter_rows(values_only=True))
    assert sheet[0] == tuple(found.header(gettext, currency="cny"))
    assert any(row[3] == 45 and row[8] == "已支付" for row in sheet[1:])
    checks = await run_checks(db, circle.community_id)
    assert all(c.ok for c in checks), [(c.name, c.problems) for c in checks if not c.ok]


async def test_a_redemption_reversed_before_the_month_closes_leaves_its_statement(
    client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    """An admin who reverses a redemption in the ledger gives the resident its points back from the
    provider: the month's statement no longer counts it, and the month closes on what is left
    (counting it, closing asked to settle points the provider's account no longer held)."""
    offer_id = await make_offer(client, circle, points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 200)
    ids = await _redeem(client, circle, offer_id, 3)
    last_month = (clock.month_of(clock.now(), "Asia/Shanghai") - timedelta(days=1)).replace(day=1)
    start, _end = clock.month_bounds(last_month, "Asia/Shanghai")
    await db.execute(
        text("UPDATE circle_vouchers SET redeemed_at = :at WHERE id = ANY(:ids)"),
        {"at": start + timedelta(days=3), "ids": ids},
    )
    mistaken = await db.scalar(text("SELECT transfer_id FROM circle_vouchers WHERE id = :v"), {"v": ids[0]})
    await ledger.reverse(
        await connection_of(db), mistaken, actor_id=None, reason="误核销", idempotency_key=f"undo-{ids[0]}"
    )
    await db.commit()
    admin = _admin(circle)
    figures = await statements.community_statements(db, admin, circle.community_id, last_month)
    barber = next(f for f in figures if f.organisation_id == circle.barber_id)
    assert (barber.vouchers, barber.points) == (2, 30)
    closed = await statements.close_month(db, admin, circle.community_id, circle.barber_id, last_month)
    await db.commit()
    assert (closed.status, closed.points) == ("closed", 30)
    checks = await run_checks(db, circle.community_id)
    assert all(check.ok for check in checks), [(x.name, x.problems) for x in checks if not x.ok]
