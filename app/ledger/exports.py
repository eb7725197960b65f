"""The ledger's export (app.core.exports): the statement of every resident's wallet over a period,
from the transfers alone: the balance before it, points in, points out and the balance after."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core import exports
from app.core.figures import Scope
from app.core.i18n import lazy
from app.core.uow import Sql

_STATEMENT = Sql(
    "WITH moves AS ("
    " SELECT t.credit_account_id AS account_id, t.amount, t.created_at FROM ledger_transfers t"
    " WHERE t.community_id = :cid AND t.created_at < :hi"
    " UNION ALL"
    " SELECT t.debit_account_id, -t.amount, t.created_at FROM ledger_transfers t"
    " WHERE t.community_id = :cid AND t.created_at < :hi"
    ") "
    "SELECT u.id, u.display_name,"
    " COALESCE(sum(m.amount) FILTER (WHERE m.created_at < :lo), 0) AS opening,"
    " COALESCE(sum(m.amount) FILTER (WHERE m.created_at >= :lo AND m.amount > 0), 0) AS credited,"
    " COALESCE(-sum(m.amount) FILTER (WHERE m.created_at >= :lo AND m.amount < 0), 0) AS debited,"
    " COALESCE(sum(m.amount), 0) AS closing "
    "FROM ledger_accounts a JOIN users u ON u.id = a.user_id "
    "LEFT JOIN moves m ON m.account_id = a.id "
    "WHERE a.community_id = :cid AND a.kind = 'wallet' "
    "GROUP BY u.id, u.display_name ORDER BY u.display_name, u.id"
)


@exports.export(
    "statements",
    lazy("Points statement per resident"),
    columns=(
        lazy("Number"),
        lazy("Name"),
        lazy("Balance before"),
        lazy("Points in"),
        lazy("Points out"),
        lazy("Balance after"),
    ),
    order=20,
    note=lazy(
        "Each resident's wallet: the balance before the period, points in and out, the balance after. "
        "Points in and out are every move of the wallet (awards, purchases, refunds, payments between "
        "neighbours); over all residents, points in less points out are the dashboard's points issued "
        "less points spent and expired."
    ),
)
async def statements(session: Any, scope: Scope) -> Sequence[Sequence[Any]]:
    rows = await _STATEMENT.fetch(session, {"cid": scope.community_id, "lo": scope.start, "hi": scope.end})
    return [
        (
            r["id"],
            r["display_name"],
            int(r["opening"]),
            int(r["credited"]),
            int(r["debited"]),
            int(r["closing"]),
        )
        for r in rows
    ]
