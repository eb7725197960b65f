"""Whether an order can be placed is one rule, migration 0013's store_order_refusal(), which every
statement that places or diagnoses an order calls (app.store.placing)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.store import placing


@pytest.mark.parametrize(
    ("active", "stock", "quantity", "limit", "used", "refusal"),
    [
        (True, 3, 2, None, 0, None),
        (False, 3, 2, None, 0, "out_of_stock"),
        (True, 3, 4, None, 0, "out_of_stock"),
        (True, 3, 2, 2, 1, "limit_reached"),
        (True, 10, 2, 3, 1, None),  # up to the limit exactly
        (True, 10, 3, 3, 1, "limit_reached"),
        (False, 10, 3, 3, 1, "out_of_stock"),  # the item's own reason first
    ],
)
async def test_order_refusal_codes(db, active, stock, quantity, limit, used, refusal):
    found = await db.scalar(
        text("SELECT store_order_refusal(:a, :s, :q, :l, :u)"),
        {"a": active, "s": stock, "q": quantity, "l": limit, "u": used},
    )
    assert found == refusal


async def test_every_placing_statement_uses_the_rule():
    for statement in (
        placing._ORDER_CONTEXT,
        placing._RESERVE_AND_INSERT,
        placing._PLACE_IN_ONE,
        placing._ITEM_NOW,
    ):
        assert "store_order_refusal(" in statement.text
        assert "stock >=" not in statement.text and "<= per_resident_limit" not in statement.text
