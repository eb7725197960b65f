"""What placing an order sends PostgreSQL (docs/architecture.md, the unit of work): the usual
order is one statement with no transaction around it; an order of several statements (an item
with a monthly limit) is one transaction."""

from __future__ import annotations

from tests.statements import statements_sent, transaction_control
from tests.store.conftest import make_item, order


async def test_a_usual_order_is_one_statement_and_a_limited_one_one_transaction(app, client, shop):
    item_id = await make_item(client, shop, name="肥皂", points_price=5, stock=10)
    first = await order(client, shop.resident, item_id)  # the community's first makes its store account
    assert first.status_code == 201, first.text
    with statements_sent(app) as sent:
        placed = await order(client, shop.resident, item_id)
    assert placed.status_code == 201, placed.text
    assert transaction_control(sent) == []
    # The order's one statement, after a read of the item and the wallet unless this worker
    # remembers them.
    assert 1 <= len(sent) <= 2, sent
    assert "INSERT INTO store_orders" in sent[-1]

    limited = await make_item(client, shop, name="食用油", points_price=5, stock=10, per_resident_limit=1)
    with statements_sent(app) as sent:
        placed = await order(client, shop.resident, limited)
        refused = await order(client, shop.resident, limited)
    assert placed.status_code == 201, placed.text
    assert refused.status_code == 409 and refused.json()["code"] == "limit_reached", refused.text
    assert transaction_control(sent) == ["BEGIN;", "COMMIT;"]  # the refusal was read, not tried
