"""The usual purchase's one statement (app.circle.vouchers._BUY_IN_ONE): the wallet's row is written
once, by its update, with no lock before it, and the hold is inserted without a conflict check; a
twin with the same key that committed first fails the statement, which leaves nothing behind, and
the request answers with the twin's voucher, on the API and inside a page's transaction, which
stays usable (docs/scaling.md, "Rows touched per request")."""

from __future__ import annotations

from typing import Any

from app.circle import vouchers
from app.core.authz import Actor
from app.core.uow import connection_of
from tests.circle.conftest import Circle, buy, give_points, make_offer
from tests.conftest import count
from tests.plans import generic_plan
from tests.plans import nodes as plan_nodes


async def test_the_usual_purchase_locks_nothing_before_its_writes(db: Any) -> None:
    """A `SELECT ... FOR UPDATE` of the wallet before its update wrote a lock record, and the
    hold's `ON CONFLICT DO NOTHING` a speculative insertion and its confirmation: two WAL records
    of the purchase's 15 (bench/rows_bench.py)."""
    conn = await connection_of(db)
    statement = vouchers._BUY_IN_ONE
    async with conn.transaction():
        plan = await generic_plan(conn, statement)
    nodes = list(plan_nodes(plan))
    assert [n["Node Type"] for n in nodes if n["Node Type"] == "LockRows"] == []
    writes = {(n["Operation"], n["Relation Name"]): n for n in nodes if n["Node Type"] == "ModifyTable"}
    assert set(writes) == {
        ("Update", "ledger_accounts"),
        ("Insert", "ledger_holds"),
        ("Insert", "circle_vouchers"),
    }
    assert [key for key, node in writes.items() if "Conflict Resolution" in node] == []


async def test_a_double_tap_on_a_remembered_offer_makes_one_voucher_on_the_api_and_in_a_page(
    app: Any, client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    offer_id = await make_offer(client, circle, points_price=20)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    assert (await buy(client, circle.resident, offer_id)).status_code == 201  # its account is made
    assert (await buy(client, circle.resident, offer_id)).status_code == 201  # now remembered
    known = app.state["offer_facts"]
    hits = known.offers.hits
    first = await buy(client, circle.resident, offer_id, key="tap")
    again = await buy(client, circle.resident, offer_id, key="tap")
    assert known.offers.hits == hits + 2  # neither read the offer first: the statement met the twin
    assert (first.status_code, again.status_code) == (201, 200), again.text
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["voucher_code"] == first.json()["voucher_code"]
    wallet = "SELECT held FROM ledger_accounts WHERE community_id = :c AND user_id = :u"
    assert await count(db, wallet, c=circle.community_id, u=circle.resident.user_id) == 60

    # Inside a page's transaction: the statement that meets the twin is undone to a savepoint,
    # and the twin is read in the same transaction, which stays usable.
    resident = Actor(
        circle.resident.user_id, circle.resident.display_name, {circle.community_id: frozenset({"resident"})}
    )
    conn = await connection_of(db)
    async with conn.transaction():
        in_page = await vouchers.buy(conn, resident, offer_id=offer_id, idempotency_key="tap", known=known)
        assert await conn.fetchval("SELECT count(*) FROM circle_vouchers WHERE id = $1", in_page.id) == 1
    assert known.offers.hits == hits + 3
    assert (in_page.id, in_page.created) == (first.json()["id"], False)
    assert await count(db, wallet, c=circle.community_id, u=circle.resident.user_id) == 60
