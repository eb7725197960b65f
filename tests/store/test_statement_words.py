"""A picked-up order's statement line names the item and the quantity in the reader's language
(it said "store_order x1"): the hold carries a structured reason that its posted transfer keeps,
and app.ledger.words puts it into words when the statement is read. Rows written before reasons
were stored keep their memo as it was."""

from __future__ import annotations

from sqlalchemy import text

from tests.store.conftest import make_item, order


async def _memos(client, person, community_id, lang):
    response = await client.get(
        "/api/v1/me/transfers",
        params={"community_id": community_id},
        headers={**person.headers, "accept-language": lang},
    )
    assert response.status_code == 200, response.text
    return [(line["kind"], line["memo"]) for line in response.json()["items"]]


async def test_a_picked_up_order_names_its_item_on_the_statement(client, shop, db):
    item_id = await make_item(client, shop, name="洗衣液 2L", points_price=20)
    placed = await order(client, shop.resident, item_id, quantity=2)
    assert placed.status_code == 201, placed.text
    handed = await client.post(
        "/api/v1/scans", json={"code": placed.json()["pickup_code"]}, headers=shop.staff.headers
    )
    assert handed.status_code == 200 and handed.json()["result"] == "picked_up", handed.text

    stored = (
        await db.execute(
            text(
                "SELECT t.memo, t.reason FROM ledger_transfers t JOIN store_orders o "
                "ON o.transfer_id = t.id WHERE o.id = :o"
            ),
            {"o": placed.json()["id"]},
        )
    ).one()
    assert (stored.memo, stored.reason) == ("", {"item": "洗衣液 2L", "quantity": 2})
    assert ("store_order", "洗衣液 2L × 2") in await _memos(client, shop.resident, shop.community_id, "zh")
    assert ("store_order", "洗衣液 2L × 2") in await _memos(client, shop.resident, shop.community_id, "en")


async def test_lines_without_a_reason_show_their_memo_as_written(client, shop, db):
    wallet = (
        await db.execute(
            text("SELECT id FROM ledger_accounts WHERE community_id = :c AND user_id = :u"),
            {"c": shop.community_id, "u": shop.resident.user_id},
        )
    ).scalar_one()
    issuing = (
        await db.execute(
            text("SELECT id FROM ledger_accounts WHERE community_id = :c AND kind = 'issuing'"),
            {"c": shop.community_id},
        )
    ).scalar_one()
    # As rows were written before structured reasons: a sentence in the memo, no reason.
    await db.execute(
        text(
            "INSERT INTO ledger_transfers (idempotency_key, community_id, debit_account_id, "
            "credit_account_id, amount, kind, reference, memo, created_at) VALUES "
            "(:k, :c, :d, :w, 3, 'event', 'checkin:0', '参加旧活动', now())"
        ),
        {"k": f"old-row-{shop.community_id}", "c": shop.community_id, "d": issuing, "w": wallet},
    )
    await db.execute(text("UPDATE ledger_accounts SET balance = balance + 3 WHERE id = :w"), {"w": wallet})
    await db.commit()
    for lang in ("zh", "en"):
        assert ("event", "参加旧活动") in await _memos(client, shop.resident, shop.community_id, lang)
