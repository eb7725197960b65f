"""What buying and redeeming a voucher send PostgreSQL (docs/architecture.md, the unit of work):
the usual purchase is one statement (after a read of the offer and the wallet, unless this worker
remembers them), a redemption by QR code one statement (whom the scanner acts for, the voucher,
the ledger's posting of its hold, the scan log row), with no transaction
around either; what is refused or sent again takes the general path and changes nothing more."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from app.circle import redeeming, vouchers
from app.core.uow import Sql, connection_of
from tests.circle.conftest import Circle, buy, give_points, make_offer
from tests.conftest import count
from tests.statements import statements_sent, transaction_control


def _one_line(sql: str) -> str:
    return " ".join(sql.split())


async def test_a_usual_purchase_and_redemption_are_one_statement_each(
    app: Any, client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    offer_id = await make_offer(client, circle, points_price=20)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    first = await buy(client, circle.resident, offer_id)  # the provider's account is made here
    assert first.status_code == 201, first.text

    with statements_sent(app) as sent:
        bought = await buy(client, circle.resident, offer_id, key="rt-1")
    assert bought.status_code == 201, bought.text
    assert transaction_control(sent) == []
    assert sent.count(_one_line(vouchers._BUY_IN_ONE.text)) == 1
    assert len(sent) <= 3, sent  # the actor (unless remembered), the offer's facts, the purchase

    code = bought.json()["voucher_code"]
    with statements_sent(app) as sent:
        redeemed = await client.post(
            "/api/v1/scans", json={"code": code, "idempotency_key": "rt-scan"}, headers=circle.barber.headers
        )
    assert redeemed.status_code == 200 and redeemed.json()["result"] == "redeemed", redeemed.text
    assert transaction_control(sent) == []
    assert sent.count(_one_line(redeeming._REDEEM_IN_ONE.text)) == 1
    # Whom the scanner acts for is asked in the statement: the actor (unless remembered) and the
    # redemption, nothing else.
    assert sent[-1] == _one_line(redeeming._REDEEM_IN_ONE.text)
    assert len(sent) <= 2, sent
    voucher_id = redeemed.json()["voucher_id"]
    # Everything the general path writes, written by the one statement: the voucher with its
    # transfer, the hold posted and the scan's log row.
    assert (
        await count(
            db,
            "SELECT count(*) FROM circle_vouchers v JOIN ledger_transfers t ON t.id = v.transfer_id "
            "AND t.hold_id = v.hold_id JOIN ledger_holds h ON h.id = v.hold_id AND h.status = 'posted' "
            "WHERE v.id = :v AND v.status = 'redeemed' AND v.redeem_key = 'rt-scan' AND t.amount = 20",
            v=voucher_id,
        )
        == 1
    )
    # The voucher's row is the redemption's audit entry, shown by the audit trail (migration
    # 0047) and written once: no audit row of its own.
    assert (
        await count(
            db,
            "SELECT count(*) FROM audit_trail a "
            "JOIN circle_vouchers v ON a.target = 'circle_voucher:' || v.id "
            "WHERE a.action = 'circle.voucher_redeemed' AND v.id = :v AND a.actor_id = :s "
            "AND a.community_id = :c AND (a.data->>'transfer_id')::bigint = v.transfer_id "
            "AND a.created_at = v.redeemed_at AND a.address IS NOT NULL",
            v=voucher_id,
            s=circle.barber.user_id,
            c=circle.community_id,
        )
        == 1
    )
    assert await count(db, "SELECT count(*) FROM audit_entries WHERE action = 'circle.voucher_redeemed'") == 0
    # A voucher redeemed before that migration kept its audit row: the trail shows it once.
    await db.execute(
        text(
            "INSERT INTO audit_entries (community_id, actor_id, action, target, data, created_at) "
            "VALUES (:c, :s, 'circle.voucher_redeemed', :t, '{}', now())"
        ),
        {"c": circle.community_id, "s": circle.barber.user_id, "t": f"circle_voucher:{voucher_id}"},
    )
    assert (
        await count(
            db, "SELECT count(*) FROM audit_trail WHERE target = :t", t=f"circle_voucher:{voucher_id}"
        )
        == 1
    )
    assert (
        await count(
            db,
            "SELECT count(*) FROM scans WHERE kind = 'JV1' AND result = 'redeemed' AND community_id = :c "
            "AND subject_id = :u AND scanner_id = :s AND idempotency_key = 'rt-scan'",
            c=circle.community_id,
            u=circle.resident.user_id,
            s=circle.barber.user_id,
        )
        == 1
    )

    # The same scan sent again is harmless; another scan of it is refused; both are logged.
    again = await client.post(
        "/api/v1/scans", json={"code": code, "idempotency_key": "rt-scan"}, headers=circle.barber.headers
    )
    assert again.status_code == 200 and again.json()["result"] == "redeemed", again.text
    other = await client.post("/api/v1/scans", json={"code": code}, headers=circle.barber.headers)
    assert other.status_code == 409 and other.json()["code"] == "already_done", other.text
    assert (
        await count(
            db,
            "SELECT count(*) FROM ledger_transfers WHERE hold_id = "
            "(SELECT hold_id FROM circle_vouchers WHERE id = :v)",
            v=voucher_id,
        )
        == 1
    )
    assert (
        await count(
            db,
            "SELECT count(*) FROM scans WHERE idempotency_key = 'rt-scan' OR "
            "(kind = 'JV1' AND result = 'already_done' AND scanner_id = :s)",
            s=circle.barber.user_id,
        )
        == 3
    )


async def test_a_voucher_of_another_provider_is_refused_by_the_general_path(
    client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    offer_id = await make_offer(client, circle, points_price=20)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    code = (await buy(client, circle.resident, offer_id)).json()["voucher_code"]
    refused = await client.post("/api/v1/scans", json={"code": code}, headers=circle.cleaner.headers)
    assert refused.status_code == 403, refused.text
    assert (
        await count(
            db, "SELECT count(*) FROM circle_vouchers WHERE status = 'held' AND offer_id = :o", o=offer_id
        )
        == 1
    )
    # Not enough points: the one statement held nothing, the general path says why.
    poor = await buy(client, circle.neighbour, offer_id)
    assert poor.status_code == 409 and poor.json()["code"] == "insufficient_points", poor.text


async def _remembering(app: Any) -> vouchers.KnownOffers:
    known: vouchers.KnownOffers = app.state["offer_facts"]
    async with asyncio.timeout(10):
        while not known.offers.feed.live:  # noqa: ASYNC110 - the listener sets no event to await
            await asyncio.sleep(0.01)
    return known


async def test_a_remembered_offer_is_bought_without_a_read_and_a_stale_one_at_its_new_price(
    app: Any, client: Any, circle: Circle, engine: Any, db: Any
) -> None:
    known = await _remembering(app)
    offer_id = await make_offer(client, circle, points_price=20)
    await give_points(engine, circle.community_id, circle.resident.user_id, 100)
    # The first purchase makes the provider's account; the second reads the offer and the
    # wallet, and this worker remembers them.
    for _ in range(2):
        assert (await buy(client, circle.resident, offer_id)).status_code == 201
    with statements_sent(app) as sent:
        bought = await buy(client, circle.resident, offer_id, key="known-1")
    assert bought.status_code == 201, bought.text
    assert _one_line(vouchers._CONTEXT.text) not in sent, sent
    assert sent[-1] == _one_line(vouchers._BUY_IN_ONE.text)
    assert len(sent) <= 2, sent  # the actor (unless remembered) and the purchase

    # The price changes: the worker is told (migration 0032's trigger) and forgets the offer.
    remembered = known.recall(offer_id, circle.resident.user_id)
    assert remembered is not None and remembered[0].points_price == 20
    await db.execute(text("UPDATE circle_offers SET points_price = 30 WHERE id = :o"), {"o": offer_id})
    await db.commit()
    async with asyncio.timeout(10):
        while known.offers.get(offer_id) is not None:  # noqa: ASYNC110 - the listener sets no event
            await asyncio.sleep(0.01)
    # Had it been told only later, its memory would still say 20: the one statement holds
    # nothing at a price the offer no longer has, and the general path reads the offer again
    # and sells it at 30.
    known.offers.put(known.offers.generation, offer_id, remembered[0])
    with statements_sent(app) as sent:
        repriced = await buy(client, circle.resident, offer_id, key="known-2")
    assert repriced.status_code == 201 and repriced.json()["points"] == 30, repriced.text
    assert _one_line(vouchers._CONTEXT.text) in sent, sent
    assert (
        await count(
            db,
            "SELECT count(*) FROM circle_vouchers v JOIN ledger_holds h ON h.id = v.hold_id "
            "WHERE v.offer_id = :o AND v.idempotency_key = 'known-2' AND v.points = 30 AND h.amount = 30",
            o=offer_id,
        )
        == 1
    )


@pytest.mark.parametrize("statement", [vouchers._BUY_IN_ONE, redeeming._REDEEM_IN_ONE], ids=["buy", "redeem"])
async def test_the_organisation_rules_are_inlined_in_the_one_statements(db: Any, statement: Sql) -> None:
    """Whom a scanner acts for and whether a provider may act in a community are migration 0034's
    SQL functions; PostgreSQL inlines them, so the statements' plans read the tables themselves
    (no function call, planned again on each execution, in the hot path)."""
    conn = await connection_of(db)
    # The generic plan, as the pool's connections run it after five executions: no parameter's
    # value folded into it.
    await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    await conn.execute("PREPARE inlined AS " + statement.text)
    count = len((await conn.prepare(statement.text)).get_parameters())
    plan = "\n".join(
        row[0]
        for row in await conn.fetch(f"EXPLAIN (VERBOSE) EXECUTE inlined({', '.join(['NULL'] * count)})")
    )
    await conn.execute("DEALLOCATE inlined")
    assert "Function Scan" not in plan, plan
    assert "organisation_acted_for" not in plan and "organisation_may_act" not in plan, plan
    table = "organisation_members" if statement is redeeming._REDEEM_IN_ONE else "agreements"
    assert f"public.{table}" in plan, plan
