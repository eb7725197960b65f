"""One idempotency key sent with several vouchers' codes at the same moment, on the live server (2
workers): one voucher is redeemed under it, the others are refused as a conflict with nothing
changed (no voucher redeemed, no point moved), and `jinlin ledger verify` passes. The scan whose
claim waits on another's, step by step, is in tests/scans/test_key_races.py."""

from __future__ import annotations

import secrets
from typing import Any

from tests.circle.conftest import Circle, buy, give_points, make_offer
from tests.circle.test_races import _burst, _verified
from tests.conftest import count

HELD = "SELECT count(*) FROM circle_vouchers WHERE offer_id = :o AND status = 'held'"
PAID = (
    "SELECT count(*) FROM ledger_transfers t JOIN ledger_accounts a ON a.id = t.credit_account_id "
    "WHERE a.kind = 'provider' AND a.organisation_id = :o"
)


async def _vouchers(client: Any, circle: Circle, engine: Any, n: int) -> tuple[int, list[str]]:
    offer_id = await make_offer(client, circle, points_price=10)
    await give_points(engine, circle.community_id, circle.resident.user_id, 10 * n)
    codes = []
    for _ in range(n):
        bought = await buy(client, circle.resident, offer_id)
        assert bought.status_code == 201, bought.text
        codes.append(bought.json()["voucher_code"])
    return offer_id, codes


async def test_five_vouchers_scanned_at_once_with_one_key_redeem_one(
    live_server: Any, client: Any, circle: Circle, engine: Any, db: Any, database_url: str
) -> None:
    offer_id, codes = await _vouchers(client, circle, engine, 5)
    key = secrets.token_hex(6)
    responses = await _burst(
        live_server.url,
        [("/api/v1/scans", {"code": c, "idempotency_key": key}, circle.barber.headers) for c in codes],
    )
    assert sorted(r.status_code for r in responses) == [200] + [409] * 4, [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"conflict"}
    redeemed = next(r.json() for r in responses if r.status_code == 200)
    assert redeemed["result"] == "redeemed"
    assert await count(db, HELD, o=offer_id) == 4
    assert await count(db, PAID, o=circle.barber_id) == 1
    await _verified(db, circle.community_id, database_url)
