"""The usual order's one statement (app.store.placing._PLACE_IN_ONE): the item row is locked once,
by its update, and a twin with the same key that committed first fails the statement, which
leaves nothing behind; the request answers with the twin's order, on the API and on a page,
whose transaction stays usable."""

from __future__ import annotations

from app.core.uow import connection_of
from app.store import placing
from tests.api.helpers import page_login, post_form
from tests.conftest import count
from tests.store.conftest import make_item, order


def _nodes(plan: dict) -> list[str]:
    return [plan["Node Type"]] + [name for child in plan.get("Plans", []) for name in _nodes(child)]


async def test_the_usual_order_locks_the_wallet_alone_before_its_writes(db):
    """The item row is locked by its UPDATE only: a `SELECT ... FOR UPDATE` of it first wrote a
    lock record and, with 64 clients on 20 items, cost PostgreSQL about 560 µs per order against
    400 (docs/scaling.md)."""
    conn = await connection_of(db)
    statement = placing._PLACE_IN_ONE
    async with conn.transaction():
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await conn.execute("PREPARE usual_order AS " + statement.text)
        nulls = ", ".join(["NULL"] * len(set(statement.names)))
        plan = await conn.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE usual_order({nulls})")
        await conn.execute("DEALLOCATE usual_order")
    nodes = _nodes(plan[0]["Plan"])
    assert nodes.count("LockRows") == 1, nodes  # the wallet's (`hw`)
    assert "ON CONFLICT" not in placing._PLACE_IN_ONE.text


async def test_a_double_tap_on_a_remembered_item_makes_one_order_on_the_api_and_the_shelf(
    client, app, shop, db
):
    facts = app.state["order_facts"]
    item_id = await make_item(client, shop, name="香皂", points_price=5, stock=10)
    # The community's first order makes its store account; the next ones are remembered.
    for _ in range(2):
        assert (await order(client, shop.resident, item_id)).status_code == 201
    hits = facts.items.hits
    first = await order(client, shop.resident, item_id, key="tap")
    again = await order(client, shop.resident, item_id, key="tap")
    assert facts.items.hits == hits + 2  # neither read the item first: the statement met the twin
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json() == first.json()

    await page_login(client, shop.resident)
    shelf = f"/store/c/{shop.community_id}/order"
    placed = await post_form(client, shelf, {"item_id": str(item_id), "key": "shelf-tap"})
    assert placed.status_code == 303, placed.text
    hits = facts.items.hits
    # The second tap runs inside the page's transaction: the failed statement is undone to a
    # savepoint, and the twin is read in the same transaction.
    twice = await post_form(client, shelf, {"item_id": str(item_id), "key": "shelf-tap"})
    assert facts.items.hits == hits + 1
    assert twice.status_code == 303, twice.text
    assert twice.headers["location"].split("?")[0] == placed.headers["location"].split("?")[0]
    assert await count(db, "SELECT count(*) FROM store_orders WHERE item_id = :i", i=item_id) == 4
    assert await count(db, "SELECT stock FROM store_items WHERE id = :i", i=item_id) == 6
