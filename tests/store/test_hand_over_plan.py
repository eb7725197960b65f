"""A pickup's hand-over changes its order found by id, one entry of the primary key, even where the
planner's figures take held orders for rare (a table analysed when nearly every order was picked
up): its guard, held and unexpired, was `status = 'held' AND expires_at > :now`, with which a plan
could read every held order's entry of the held orders' expiry index instead, as a redemption's
did (docs/scaling.md, 2026-12-01, second part)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import uow
from app.store import orders


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


async def test_a_hand_over_reads_its_order_by_its_id_when_held_ones_look_rare(db: AsyncSession):
    conn = await uow.connection_of(db)
    # A store's past (rolled back below): 20,000 orders, every one picked up, then analysed.
    await conn.execute(
        "INSERT INTO store_orders (community_id, item_id, user_id, quantity, unit_price, points, status, "
        "hold_id, idempotency_key, pickup_secret, pickup_digits, expires_at, created_at, picked_up_at) "
        "SELECT 900001, 900001, 900000 + n % 500, 1, 5, 5, 'picked_up', 900000 + n, 'plan-' || n, "
        "'plan-secret-' || n, lpad(CAST(n AS text), 8, '0'), now() + interval '7 days', now(), now() "
        "FROM generate_series(1, 20000) n"
    )
    await conn.execute("ANALYZE store_orders")
    plan = await _generic_plan(conn, orders._HAND_OVER)
    await db.rollback()
    # ANALYZE's row count is written in place and outlives the rollback: count again.
    await (await uow.connection_of(db)).execute("ANALYZE store_orders")
    await db.rollback()
    reads = [
        n
        for n in _nodes(plan)
        if n.get("Relation Name") == "store_orders" and n["Node Type"] != "ModifyTable"
    ]
    assert [(n["Node Type"], n.get("Index Name")) for n in reads] == [("Index Scan", "pk_store_orders")], (
        reads
    )
