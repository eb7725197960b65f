"""The ledger's figures for the dashboards (app.core.figures): points issued, spent and expired in
a community over a range, counted from the transfers alone.

Each is a net flow, so a reversal cancels what it reverses in the range it falls in:
- issued: what left the community's issuing account, less what went back to it (deductions and
  reversed awards);
- spent: what went from wallets to any account that is neither a wallet, the issuing account nor
  the expiry sink (the store today, a provider of the service circle tomorrow), less refunds;
- expired: what went from wallets to the expiry sink, less what came back from it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core import figures
from app.core.figures import SCOPES, Scope, scope_arrays
from app.core.i18n import lazy
from app.core.uow import Sql

_SINKS = "('wallet', 'issuing', 'expiry')"
_FLOWS = Sql(
    "SELECT s.cid, "  # noqa: S608
    "COALESCE(sum(t.amount) FILTER (WHERE d.kind = 'issuing'), 0) "
    "- COALESCE(sum(t.amount) FILTER (WHERE c.kind = 'issuing'), 0) AS issued, "
    f"COALESCE(sum(t.amount) FILTER (WHERE d.kind = 'wallet' AND c.kind NOT IN {_SINKS}), 0) "
    f"- COALESCE(sum(t.amount) FILTER (WHERE c.kind = 'wallet' AND d.kind NOT IN {_SINKS}), 0) AS spent, "
    "COALESCE(sum(t.amount) FILTER (WHERE d.kind = 'wallet' AND c.kind = 'expiry'), 0) "
    "- COALESCE(sum(t.amount) FILTER (WHERE c.kind = 'wallet' AND d.kind = 'expiry'), 0) AS expired "
    f"FROM {SCOPES} "
    "JOIN ledger_transfers t ON t.community_id = s.cid AND t.created_at >= s.lo AND t.created_at < s.hi "
    "JOIN ledger_accounts d ON d.id = t.debit_account_id "
    "JOIN ledger_accounts c ON c.id = t.credit_account_id "
    "GROUP BY s.cid"
)


async def _flow(session: Any, scopes: Sequence[Scope], column: str) -> dict[int, int]:
    rows = await _FLOWS.fetch(session, scope_arrays(scopes))
    return {int(row["cid"]): int(row[column]) for row in rows}


@figures.figure("points_issued", lazy("Points issued"), unit=lazy("points"), order=10)
async def points_issued(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    return await _flow(session, scopes, "issued")


@figures.figure("points_spent", lazy("Points spent"), unit=lazy("points"), order=11)
async def points_spent(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    return await _flow(session, scopes, "spent")


@figures.figure("points_expired", lazy("Points expired"), unit=lazy("points"), order=12)
async def points_expired(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    return await _flow(session, scopes, "expired")
