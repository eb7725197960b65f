"""Typed digits that no open voucher has are looked for among the shop's vouchers closed lately
(app.circle.redeeming._CLOSED_BY_DIGITS) by an index of the digits: with "redeemed lately OR
cancelled or expired lately" over the shop's vouchers, PostgreSQL could use no index for the
closed half and read every voucher the shop ever had, on each mistyped number at the counter."""

from __future__ import annotations

from typing import Any

from app.circle import redeeming
from app.core import uow
from tests.plans import generic_plan, nodes

# A busy shop's years: 30,000 vouchers of its own and as many of other shops, most used, some
# cancelled or expired, each with its 8 digits.
VOUCHERS = (
    "INSERT INTO circle_vouchers (community_id, offer_id, organisation_id, user_id, points, status, "
    "hold_id, idempotency_key, secret, digits, expires_at, created_at, redeemed_at, closed_at) "
    "SELECT 990000, 990000, 990000 + n % 2, 990000 + n % 500, 5, s.status, n, 'plan-' || n, "
    "'plan-secret-' || n, lpad(CAST((n * 7919) % 100000000 AS text), 8, '0'), "
    "now() - make_interval(days => n % 700) + interval '30 days', now() - make_interval(days => n % 700), "
    "CASE WHEN s.status = 'redeemed' THEN now() - make_interval(days => n % 700) END, "
    "CASE WHEN s.status IN ('cancelled', 'expired') THEN now() - make_interval(days => n % 700) END "
    "FROM generate_series(1, 60000) n, LATERAL (SELECT CASE WHEN n % 10 = 0 THEN 'cancelled' "
    "WHEN n % 10 = 1 THEN 'expired' WHEN n % 200 = 2 THEN 'held' ELSE 'redeemed' END AS status) s"
)


async def test_typed_digits_find_a_lately_closed_voucher_by_an_index_of_its_digits(db: Any) -> None:
    conn = await uow.connection_of(db)
    await conn.execute(VOUCHERS)
    await conn.execute("ANALYZE circle_vouchers")
    plan = await generic_plan(conn, redeeming._CLOSED_BY_DIGITS)
    await db.rollback()
    # ANALYZE's row count is written in place and outlives the rollback: count again.
    await (await uow.connection_of(db)).execute("ANALYZE circle_vouchers")
    await db.rollback()
    reads = [n for n in nodes(plan) if n.get("Relation Name") == "circle_vouchers"]
    assert reads and all(n["Node Type"] != "Seq Scan" for n in reads), plan
    assert all("digits" in n.get("Index Cond", "") for n in reads), plan
