"""`jinlin ledger verify`: the ledger's invariants, checked from the transfers up.

Each check returns how many rows it looked at and the offending ones (at most a few shown).
The same checks back the admin page (scoped to one community). After the ledger's own, the checks
registered with app.core.checks run (money's: payments against their contributions).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import checks
from app.core.checks import Check as Check
from app.core.i18n import lazy

# Each account's balance as the transfers say it, and its held points as open holds say.
_DERIVED = """
WITH moves AS (
    SELECT credit_account_id AS account_id, amount FROM ledger_transfers WHERE (:all OR community_id = :c)
    UNION ALL
    SELECT debit_account_id, -amount FROM ledger_transfers WHERE (:all OR community_id = :c)
), net AS (SELECT account_id, sum(amount) AS net FROM moves GROUP BY account_id),
held AS (
    SELECT debit_account_id AS account_id, sum(amount) AS held FROM ledger_holds
    WHERE status = 'pending' AND (:all OR community_id = :c) GROUP BY debit_account_id
)
SELECT a.id, a.kind, a.community_id, a.user_id, a.balance, a.held,
       COALESCE(net.net, 0) AS derived, COALESCE(held.held, 0) AS derived_held
FROM ledger_accounts a LEFT JOIN net ON net.account_id = a.id LEFT JOIN held ON held.account_id = a.id
WHERE (:all OR a.community_id = :c)
"""


async def run_checks(session: AsyncSession, community_id: int | None = None) -> list[Check]:
    params = {"c": community_id or 0, "all": community_id is None}
    rows = (await session.execute(text(_DERIVED), params)).all()

    total = Check("sum_zero", lazy("The sum of all balances is zero"))
    cached = Check("cached_balances", lazy("Each wallet's cached balance equals what its transfers say"))
    holds = Check("held_points", lazy("Each wallet's held points equal its open holds"))
    negative = Check("no_negative", lazy("No wallet, store or expiry account is negative; held ≤ balance"))
    sum_all = 0
    for row in rows:
        wallet = row.user_id is not None
        balance = int(row.balance) if wallet else int(row.derived)
        sum_all += balance
        total.checked += 1
        if wallet:
            cached.checked += 1
            if int(row.balance) != int(row.derived):
                cached.problems.append(f"account {row.id}: cached {row.balance}, transfers say {row.derived}")
            holds.checked += 1
            if int(row.held) != int(row.derived_held):
                holds.problems.append(f"account {row.id}: held {row.held}, open holds say {row.derived_held}")
        elif int(row.balance) != 0 or int(row.held) != 0:
            cached.problems.append(f"system account {row.id} carries a cached balance")
        negative.checked += 1
        if row.kind != "issuing" and (balance < 0 or int(row.held) > balance or int(row.held) < 0):
            negative.problems.append(f"account {row.id} ({row.kind}): balance {balance}, held {row.held}")
    if sum_all != 0:
        total.problems.append(f"balances sum to {sum_all}")

    refs = Check("references", lazy("Every transfer and hold names two accounts of its own community"))
    refs.checked = int(
        (
            await session.execute(
                text("SELECT count(*) FROM ledger_transfers WHERE (:all OR community_id = :c)"),
                params,
            )
        ).scalar_one()
    )
    bad = (
        await session.execute(
            text(
                "SELECT t.id FROM ledger_transfers t "
                "LEFT JOIN ledger_accounts d ON d.id = t.debit_account_id "
                "LEFT JOIN ledger_accounts c ON c.id = t.credit_account_id "
                "WHERE (:all OR t.community_id = :c) AND (d.id IS NULL OR c.id IS NULL "
                "OR d.community_id <> t.community_id OR c.community_id <> t.community_id) LIMIT 5"
            ),
            params,
        )
    ).scalars()
    refs.problems.extend(f"transfer {id_} names a missing or foreign account" for id_ in bad)

    posted = Check(
        "holds_posted_once", lazy("Each posted hold has exactly one transfer of its amount; others none")
    )
    posted.checked = int(
        (
            await session.execute(
                text("SELECT count(*) FROM ledger_holds h WHERE (:all OR h.community_id = :c)"),
                params,
            )
        ).scalar_one()
    )
    bad = (
        await session.execute(
            text(
                "SELECT h.id FROM ledger_holds h LEFT JOIN ledger_transfers t ON t.hold_id = h.id "
                "WHERE (:all OR h.community_id = :c) "
                "AND ((h.status = 'posted') <> (t.id IS NOT NULL) "
                "OR (t.id IS NOT NULL AND (t.amount <> h.amount OR t.debit_account_id <> h.debit_account_id "
                "OR t.credit_account_id <> h.credit_account_id))) LIMIT 5"
            ),
            params,
        )
    ).scalars()
    posted.problems.extend(f"hold {id_} does not match its transfer" for id_ in bad)

    rev = Check("reversals", lazy("Each reversal mirrors the transfer it reverses (once)"))
    rev.checked = int(
        (
            await session.execute(
                text(
                    "SELECT count(*) FROM ledger_transfers r "
                    "WHERE (:all OR r.community_id = :c) AND r.reverses_id IS NOT NULL"
                ),
                params,
            )
        ).scalar_one()
    )
    bad = (
        await session.execute(
            text(
                "SELECT r.id FROM ledger_transfers r LEFT JOIN ledger_transfers o ON o.id = r.reverses_id "
                "WHERE (:all OR r.community_id = :c) "
                "AND r.reverses_id IS NOT NULL AND (o.id IS NULL OR o.amount <> r.amount "
                "OR o.debit_account_id <> r.credit_account_id OR o.credit_account_id <> r.debit_account_id "
                "OR o.reverses_id IS NOT NULL) LIMIT 5"
            ),
            params,
        )
    ).scalars()
    rev.problems.extend(f"reversal {id_} does not mirror its original" for id_ in bad)
    found = [total, cached, holds, negative, refs, posted, rev]
    for more in checks.registered():
        found.extend(await more(session, community_id))
    return found
