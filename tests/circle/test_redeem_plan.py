"""The redemption's one statement finds its voucher by the secret's unique index, one entry, even
where the planner's figures take held vouchers for rare (a table analysed when nearly every voucher
was redeemed, then a morning's purchases). A plan through the held vouchers' expiry index read
every held voucher's entry of every community for each redemption: served, thousands of entries
a redemption and PostgreSQL's CPU per redemption two to four times its usual (docs/scaling.md,
2026-12-01, second part)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.circle import redeeming
from tests.plans import reads_after_a_closed_past


async def test_a_redemption_reads_its_voucher_by_its_secret_when_held_ones_look_rare(db: AsyncSession):
    # A provider's past (rolled back): 20,000 vouchers, every one redeemed.
    past = (
        "INSERT INTO circle_vouchers (community_id, offer_id, organisation_id, user_id, points, status, "
        "hold_id, idempotency_key, secret, digits, expires_at, created_at, redeemed_at) "
        "SELECT 900001, 900001, 900001, 900000 + n % 500, 5, 'redeemed', 900000 + n, 'plan-' || n, "
        "'plan-secret-' || n, lpad(CAST(n AS text), 8, '0'), now() + interval '30 days', now(), now() "
        "FROM generate_series(1, 20000) n"
    )
    reads = await reads_after_a_closed_past(db, "circle_vouchers", past, redeeming._REDEEM_IN_ONE)
    assert [(n["Node Type"], n.get("Index Name")) for n in reads] == [
        ("Index Scan", "uq_circle_vouchers_secret")
    ], reads
