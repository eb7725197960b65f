"""A check-out's award and the awards API find the community's issuing account by its partial
unique index, one entry: the query states the index's whole condition. Without
`organisation_id IS NULL` the planner could not use it and read every account without a user, in
every community (a district's hundred communities: several hundred rows per check-out)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import uow
from app.events import checkins
from app.ledger import transfers
from tests.plans import generic_plan, nodes


async def test_the_issuing_account_is_one_entry_of_its_unique_index(db: AsyncSession):
    conn = await uow.connection_of(db)
    # A district's accounts (rolled back below): 300 communities with their four system accounts,
    # a provider's account and twenty wallets each.
    await conn.execute(
        "INSERT INTO ledger_accounts (community_id, kind, user_id, organisation_id) "
        "SELECT 900000 + c, k, CAST(NULL AS bigint), CAST(NULL AS bigint) FROM generate_series(1, 300) c, "
        "unnest(ARRAY['issuing', 'store', 'expiry', 'settled']) k "
        "UNION ALL SELECT 900000 + c, 'provider', NULL, 900000 + c FROM generate_series(1, 300) c "
        "UNION ALL SELECT 900000 + c, 'wallet', 900000 + c * 100 + u, NULL "
        "FROM generate_series(1, 300) c, generate_series(1, 20) u"
    )
    await conn.execute("ANALYZE ledger_accounts")
    award = uow.Sql("WITH " + transfers.award_ctes("w, s") + " SELECT id FROM ins")  # noqa: S608
    plans = {
        "award": await generic_plan(conn, award),
        "check-out": await generic_plan(conn, checkins.CHECK_OUT_LOGGED),
    }
    await db.rollback()
    # ANALYZE's row count is written in place and outlives the rollback: count again.
    await (await uow.connection_of(db)).execute("ANALYZE ledger_accounts")
    await db.rollback()
    for name, plan in plans.items():
        reads = [n for n in nodes(plan) if n.get("Relation Name") == "ledger_accounts"]
        issuing = [n for n in reads if "'issuing'" in n.get("Index Cond", "") + n.get("Filter", "")]
        assert len(issuing) == 1, (name, reads)
        assert issuing[0]["Node Type"] == "Index Scan", (name, issuing)
        assert issuing[0]["Index Name"] == "uq_ledger_accounts_system", (name, issuing)
        assert "'issuing'" in issuing[0]["Index Cond"], (name, issuing)
