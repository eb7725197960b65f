"""The statements page's earlier months still to settle are read a provider's month at a time,
one voucher each from the vouchers' index by provider and redemption: it read every voucher the
community ever redeemed on each view (a community's years of redemptions for a dozen months)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.circle import statements
from app.core import clock, uow
from tests.circle.conftest import Circle, make_offer
from tests.plans import nodes

ZONE = "Asia/Shanghai"
MONTHS = 24
VOUCHERS = 12000


async def test_earlier_months_read_one_voucher_a_month_not_every_redemption(
    client: Any, circle: Circle, db: AsyncSession
) -> None:
    offer_id = await make_offer(client, circle)
    this_month = clock.month_of(clock.now(), ZONE)
    before = this_month
    for _ in range(5):
        before = clock.previous_month(before)
    start, _end = clock.month_bounds(before, ZONE)
    conn = await uow.connection_of(db)
    # Two years of redemptions before the six months the page offers, none of them closed
    # (rolled back at the end).
    await conn.execute(
        "INSERT INTO circle_vouchers (community_id, offer_id, organisation_id, user_id, points, status, "
        "hold_id, idempotency_key, secret, digits, expires_at, created_at, redeemed_at) "
        "SELECT $1, $2, $3, $4, 5, 'redeemed', 900000 + n, 'plan-' || n, md5(random()::text), "
        "lpad(CAST(n AS text), 8, '0'), $5::timestamptz, $5::timestamptz, "
        "$5::timestamptz - make_interval(hours => n * $6::int / $7::int) "
        "FROM generate_series(1, $7::int) n",
        circle.community_id,
        offer_id,
        circle.barber_id,
        circle.resident.user_id,
        start - timedelta(hours=1),
        MONTHS * 30 * 24,
        VOUCHERS,
    )
    await conn.execute("ANALYZE circle_vouchers")
    params = {"c": circle.community_id, "before": before, "start": start, "z": ZONE}
    months = await statements.months_to_settle_before(db, circle.community_id, before, ZONE)
    assert len(months) >= MONTHS
    found = await conn.fetchval(
        "EXPLAIN (ANALYZE, FORMAT JSON) " + statements._MONTHS_TO_SETTLE.text,
        *statements._MONTHS_TO_SETTLE.args(params),
    )
    plan = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
    read = sum(
        n.get("Actual Rows", 0) * n.get("Actual Loops", 1)
        for n in nodes(plan)
        if n.get("Relation Name") == "circle_vouchers"
    )
    await db.rollback()
    # ANALYZE's figures outlive the rollback: the table is analysed again without the rows.
    await (await uow.connection_of(db)).execute("ANALYZE circle_vouchers")
    await db.rollback()
    # One voucher a month with redemptions, and one more to find there is no later one.
    assert read <= len(months) + 2, (read, len(months))
