"""A pickup's hand-over changes its order found by id, one entry of the primary key, even where the
planner's figures take held orders for rare (a table analysed when nearly every order was picked
up): its guard, held and unexpired, was `status = 'held' AND expires_at > :now`, with which a plan
could read every held order's entry of the held orders' expiry index instead, as a redemption's
did (docs/scaling.md, 2026-12-01, second part)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.store import orders
from tests.plans import reads_after_a_closed_past


async def test_a_hand_over_reads_its_order_by_its_id_when_held_ones_look_rare(db: AsyncSession):
    # A store's past (rolled back): 20,000 orders, every one picked up.
    past = (
        "INSERT INTO store_orders (community_id, item_id, user_id, quantity, unit_price, points, status, "
        "hold_id, idempotency_key, pickup_secret, pickup_digits, expires_at, created_at, picked_up_at) "
        "SELECT 900001, 900001, 900000 + n % 500, 1, 5, 5, 'picked_up', 900000 + n, 'plan-' || n, "
        "'plan-secret-' || n, lpad(CAST(n AS text), 8, '0'), now() + interval '7 days', now(), now() "
        "FROM generate_series(1, 20000) n"
    )
    reads = await reads_after_a_closed_past(db, "store_orders", past, orders._HAND_OVER)
    assert [(n["Node Type"], n.get("Index Name")) for n in reads] == [("Index Scan", "pk_store_orders")], (
        reads
    )
