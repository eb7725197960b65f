"""The redemption's one statement finds its voucher by the secret's unique index, one entry, even
where the planner's figures take held vouchers for rare (a table analysed when nearly every voucher
was redeemed, then a morning's purchases). A plan through the held vouchers' expiry index read
every held voucher's entry of every community for each redemption: served, thousands of entries
a redemption and PostgreSQL's CPU per redemption two to four times its usual (docs/scaling.md,
2026-12-01, second part)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.circle import redeeming
from app.core import uow


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def _generic_plan(conn: Any, statement: uow.Sql) -> dict[str, Any]:
    """The plan a pooled connection settles on (generic after five runs), for any values."""
    await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    await conn.execute("PREPARE plan_read AS " + statement.text)
    found = await conn.fetchval(
        "EXPLAIN (FORMAT JSON) EXECUTE plan_read(" + ", ".join(["NULL"] * len(statement.names)) + ")"
    )
    await conn.execute("DEALLOCATE plan_read")
    return (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]


async def test_a_redemption_reads_its_voucher_by_its_secret_when_held_ones_look_rare(db: AsyncSession):
    conn = await uow.connection_of(db)
    # A provider's past (rolled back below): 20,000 vouchers, every one redeemed, then analysed.
    await conn.execute(
        "INSERT INTO circle_vouchers (community_id, offer_id, organisation_id, user_id, points, status, "
        "hold_id, idempotency_key, secret, digits, expires_at, created_at, redeemed_at) "
        "SELECT 900001, 900001, 900001, 900000 + n % 500, 5, 'redeemed', 900000 + n, 'plan-' || n, "
        "'plan-secret-' || n, lpad(CAST(n AS text), 8, '0'), now() + interval '30 days', now(), now() "
        "FROM generate_series(1, 20000) n"
    )
    await conn.execute("ANALYZE circle_vouchers")
    plan = await _generic_plan(conn, redeeming._REDEEM_IN_ONE)
    await db.rollback()
    # ANALYZE's row count is written in place and outlives the rollback: count again.
    await (await uow.connection_of(db)).execute("ANALYZE circle_vouchers")
    await db.rollback()
    reads = [
        n
        for n in _nodes(plan)
        if n.get("Relation Name") == "circle_vouchers" and n["Node Type"] != "ModifyTable"
    ]
    assert [(n["Node Type"], n.get("Index Name")) for n in reads] == [
        ("Index Scan", "uq_circle_vouchers_secret")
    ], reads
