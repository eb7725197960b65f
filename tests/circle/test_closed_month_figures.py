"""A closed month's statement and the dashboard's figures of that month: the statement keeps its
figures once closed, and the dashboard counts the same redemptions, so nothing may take one of
them back after the month is closed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from app.circle import statements
from app.core import clock
from app.core.authz import Actor
from app.core.errors import DomainError
from app.core.uow import connection_of
from app.ledger import services as ledger
from app.ledger.verify import run_checks
from app.places.models import Community
from app.reports.services import figures_of
from tests.circle.conftest import Circle, give_points, make_offer
from tests.circle.test_statements import _redeem

ZONE = "Asia/Shanghai"


async def test_a_closed_months_redemption_cannot_be_taken_back_so_its_figures_stay(
    client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    offer_id = await make_offer(client, circle, points_price=15)
    await give_points(engine, circle.community_id, circle.resident.user_id, 200)
    last_ids = await _redeem(client, circle, offer_id, 1)
    await _redeem(client, circle, offer_id, 1)  # this month's: the provider's account holds its points
    last_month = (clock.month_of(clock.now(), ZONE) - timedelta(days=1)).replace(day=1)
    start, end = clock.month_bounds(last_month, ZONE)
    await db.execute(
        text("UPDATE circle_vouchers SET redeemed_at = :at WHERE id = ANY(:ids)"),
        {"at": start + timedelta(days=3), "ids": last_ids},
    )
    await db.commit()
    admin = Actor(circle.admin.user_id, "管理员", {circle.community_id: frozenset({"admin"})})
    await statements.close_month(db, admin, circle.community_id, circle.barber_id, last_month)
    await db.commit()
    community = await db.get(Community, circle.community_id)
    assert community is not None
    last_day = (end - timedelta(seconds=1)).astimezone(clock.zone(ZONE)).date()

    async def both() -> tuple[tuple[int, int], tuple[int, int]]:
        fresh = await db.get(Community, circle.community_id)
        assert fresh is not None
        shown = (await figures_of(db, [fresh], last_month, last_day))[0]
        kept = await statements.community_statements(db, admin, circle.community_id, last_month)
        barber = next(f for f in kept if f.organisation_id == circle.barber_id)
        return (
            (int(shown.count("vouchers_redeemed")), int(shown.count("circle_turnover"))),
            (barber.vouchers, barber.points),
        )

    dashboard, statement = await both()
    assert dashboard == statement == (1, 15)
    transfer_id = await db.scalar(
        text("SELECT transfer_id FROM circle_vouchers WHERE id = :v"), {"v": last_ids[0]}
    )
    # Reversed, it left the month's vouchers and turnover at (0, 0) beside the statement's (1, 15).
    conn = await connection_of(db)
    with pytest.raises(DomainError) as refused:
        async with conn.transaction():
            await ledger.reverse(
                conn, transfer_id, actor_id=None, reason="误核销", idempotency_key="closed-undo"
            )
    assert refused.value.code == "conflict"
    await db.rollback()
    # The admin's reversal through the API is refused in words.
    answer = await client.post(
        f"/api/v1/communities/{circle.community_id}/transfers/{transfer_id}/reverse",
        json={"reason": "误核销", "idempotency_key": "closed-undo-api"},
        headers=circle.admin.headers,
    )
    assert answer.status_code == 409 and answer.json()["code"] == "conflict", answer.text
    assert "已结账" in answer.json()["detail"]
    dashboard, statement = await both()
    assert dashboard == statement == (1, 15)
    # This month's redemption, whose month is open, is still taken back as before.
    this_id = await db.scalar(
        text("SELECT transfer_id FROM circle_vouchers WHERE community_id = :c AND NOT (id = ANY(:ids))"),
        {"c": circle.community_id, "ids": last_ids},
    )
    conn = await connection_of(db)
    async with conn.transaction():
        await ledger.reverse(conn, this_id, actor_id=None, reason="误核销", idempotency_key="open-undo")
    await db.commit()
    checks = await run_checks(db, circle.community_id)
    assert all(c.ok for c in checks), [(c.name, c.problems) for c in checks if not c.ok]
