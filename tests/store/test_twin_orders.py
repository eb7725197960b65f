"""The usual order's one statement (app.store.placing._PLACE_IN_ONE): it locks no row before it
writes it (the wallet and the item are each written once), and a twin with the same key that
committed first, or a concurrent order that took the last of the stock, fails the statement,
which leaves nothing behind; the request answers with the twin's order or as out of stock, on the
API and on a page, whose transaction stays usable."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core.authz import Actor
from app.core.uow import connection_of
from app.store import placing
from tests.api.helpers import page_login, post_form
from tests.conftest import count
from tests.plans import generic_plan
from tests.plans import nodes as plan_nodes
from tests.store.conftest import make_item, order


async def test_the_usual_order_locks_no_row_before_its_writes(db):
    """The item row is locked by its UPDATE only: a `SELECT ... FOR UPDATE` of it first wrote a
    lock record and, with 64 clients on 20 items, cost PostgreSQL about 560 µs per order against
    400; the wallet likewise, since its held points go up in the update that checks they are
    covered (docs/scaling.md, 2026-12-01)."""
    conn = await connection_of(db)
    statement = placing._PLACE_IN_ONE
    async with conn.transaction():
        plan = await generic_plan(conn, statement)
    nodes = [node["Node Type"] for node in plan_nodes(plan)]
    assert "LockRows" not in nodes, nodes
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


# The usual order's one statement, waiting on the item's row (the test's other transaction).
WAITING = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() "
    "AND query LIKE 'WITH hw AS (UPDATE ledger_accounts %'"
)
HELD = "SELECT held FROM ledger_accounts WHERE community_id = :c AND user_id = :u"


async def _waiting(engine: Any) -> None:
    """Returns once the usual order's statement waits on a lock. Each look is a transaction of its
    own: within one, PostgreSQL shows pg_stat_activity as it was at the first look."""
    async with engine.connect() as watch:
        for _ in range(600):
            waiting = (await watch.execute(text(WAITING))).scalar()
            await watch.rollback()
            if waiting:
                return
            await asyncio.sleep(0.05)
    raise AssertionError("the order's one statement never came to wait on the item's row")


async def _race(live_server: Any, shop: Any, engine: Any, item_id: int, change: list[str]) -> httpx.Response:
    """An order of the item on the live server, by the one statement (the worker its connection
    reached remembers the item and the wallet after two orders on it), while another transaction
    that has run `change` on the item holds its row; that one commits once the order waits."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        body = {"item_id": item_id, "quantity": 1}
        for n in range(2):  # the community's first order makes its store account; then remembered
            made = await http.post(
                "/api/v1/orders", json={**body, "idempotency_key": f"warm-{n}"}, headers=shop.resident.headers
            )
            assert made.status_code == 201, made.text
        async with engine.connect() as other:
            for statement in change:
                await other.execute(
                    text(statement), {"i": item_id, "c": shop.community_id, "u": shop.resident.user_id}
                )
            placing_it = asyncio.create_task(
                http.post(
                    "/api/v1/orders", json={**body, "idempotency_key": "raced"}, headers=shop.resident.headers
                )
            )
            await _waiting(engine)
            await other.commit()
        return await placing_it


async def test_an_order_whose_last_stock_another_takes_meanwhile_is_out_of_stock_and_holds_nothing(
    live_server, client, shop, db, engine
):
    """The statement found the item in stock when it began, held the points, then waited on the
    item's row while another transaction took the last of it: the item's CHECK undoes the whole
    statement, and the answer is out of stock."""
    item_id = await make_item(client, shop, name="最后的挂面", points_price=5, stock=3)
    answer = await _race(
        live_server,
        shop,
        engine,
        item_id,
        [
            "UPDATE store_items SET stock = stock - 1 WHERE id = :i",
            "INSERT INTO store_stock_moves (community_id, item_id, delta, kind, created_at) "
            "VALUES (:c, :i, -1, 'correction', now())",
        ],
    )
    assert answer.status_code == 409 and answer.json()["code"] == "out_of_stock", answer.text
    assert await count(db, "SELECT stock FROM store_items WHERE id = :i", i=item_id) == 0
    assert await count(db, "SELECT count(*) FROM store_orders WHERE item_id = :i", i=item_id) == 2
    assert await count(db, HELD, c=shop.community_id, u=shop.resident.user_id) == 10  # the two orders'


async def test_an_order_whose_price_changes_while_it_waits_is_placed_at_the_price_it_held(
    live_server, client, shop, db, engine
):
    """The price the resident ordered at, and held points for, is the order's: it is placed as if
    it had come just before the change."""
    item_id = await make_item(client, shop, name="香油", points_price=5, stock=10)
    answer = await _race(
        live_server, shop, engine, item_id, ["UPDATE store_items SET points_price = 7 WHERE id = :i"]
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["points"] == 5
    placed = await db.execute(
        text(
            "SELECT o.unit_price, o.points, h.amount FROM store_orders o "
            "JOIN ledger_holds h ON h.id = o.hold_id WHERE o.id = :o"
        ),
        {"o": answer.json()["id"]},
    )
    assert tuple(placed.one()) == (5, 5, 5)
    assert await count(db, "SELECT stock FROM store_items WHERE id = :i", i=item_id) == 7


async def test_an_order_whose_points_another_holds_meanwhile_is_refused_for_the_points(
    live_server, client, shop, db, engine
):
    """The statement found the wallet covering the order when it began, then waited on the
    wallet's row while another order held points of it: its update of the wallet no longer
    covered the order and wrote nothing, but it asked again whether the wallet covered it as its
    beginning saw it, and the resident was told the item was out of stock, ten in stock."""
    item_id = await make_item(client, shop, name="食用油", points_price=60, stock=10)
    # 200 points, two orders of 60 held (_race's first two): 80 available, 30 of them held meanwhile.
    held_meanwhile = "UPDATE ledger_accounts SET held = held + 30 WHERE community_id = :c AND user_id = :u"
    try:
        answer = await _race(live_server, shop, engine, item_id, [held_meanwhile])
    finally:
        async with engine.begin() as undo:
            await undo.execute(
                text("UPDATE ledger_accounts SET held = held - 30 WHERE community_id = :c AND user_id = :u"),
                {"c": shop.community_id, "u": shop.resident.user_id},
            )
    assert answer.status_code == 409 and answer.json()["code"] == "insufficient_points", answer.text
    assert await count(db, "SELECT stock FROM store_items WHERE id = :i", i=item_id) == 8
    assert await count(db, HELD, c=shop.community_id, u=shop.resident.user_id) == 120  # the two orders'


async def test_a_double_tap_with_points_for_one_order_answers_with_the_first_order(
    live_server, client, shop, db, engine
):
    """The second tap's statement waited on the wallet's row while the first placed the order,
    which left the wallet short of a second one: the second wrote nothing and was refused (out of
    stock, as the wallet read when it began), where its key names the order the first placed."""
    item_id = await make_item(client, shop, name="大米", points_price=60, stock=10)
    actor = Actor(shop.resident.user_id, "郑美玉", {shop.community_id: frozenset({"resident"})})
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as http:
        body = {"item_id": item_id, "quantity": 1}
        for n in range(2):  # the store account made, the item remembered; 80 of 200 points left
            made = await http.post(
                "/api/v1/orders", json={**body, "idempotency_key": f"warm-{n}"}, headers=shop.resident.headers
            )
            assert made.status_code == 201, made.text
        async with async_sessionmaker(engine)() as first:
            placed = await placing.place_order(
                await connection_of(first), actor, item_id=item_id, quantity=1, idempotency_key="tap"
            )
            second = asyncio.create_task(
                http.post(
                    "/api/v1/orders", json={**body, "idempotency_key": "tap"}, headers=shop.resident.headers
                )
            )
            await _waiting(engine)
            await first.commit()
        answer = await second
    assert answer.status_code == 200 and answer.json()["id"] == placed.id, answer.text
    assert await count(db, "SELECT count(*) FROM store_orders WHERE item_id = :i", i=item_id) == 3
    assert await count(db, HELD, c=shop.community_id, u=shop.resident.user_id) == 180
