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
from app.core.figures import BUCKET, SCOPES, Scope, scope_arrays
from app.core.i18n import lazy
from app.core.uow import Sql

_SINKS = "('wallet', 'issuing', 'expiry')"
# Each flow in one place, for the totals and the trend alike.
_ISSUED = (
    "COALESCE(sum(t.amount) FILTER (WHERE d.kind = 'issuing'), 0) "
    "- COALESCE(sum(t.amount) FILTER (WHERE c.kind = 'issuing'), 0)"
)
_SPENT = (
    f"COALESCE(sum(t.amount) FILTER (WHERE d.kind = 'wallet' AND c.kind NOT IN {_SINKS}), 0) "
    f"- COALESCE(sum(t.amount) FILTER (WHERE c.kind = 'wallet' AND d.kind NOT IN {_SINKS}), 0)"
)
_EXPIRED = (
    "COALESCE(sum(t.amount) FILTER (WHERE d.kind = 'wallet' AND c.kind = 'expiry'), 0) "
    "- COALESCE(sum(t.amount) FILTER (WHERE c.kind = 'wallet' AND d.kind = 'expiry'), 0)"
)
_TRANSFERS = (
    f"FROM {SCOPES} "
    "JOIN ledger_transfers t ON t.community_id = s.cid AND t.created_at >= s.lo AND t.created_at < s.hi "
    "JOIN ledger_accounts d ON d.id = t.debit_account_id "
    "JOIN ledger_accounts c ON c.id = t.credit_account_id "
)
_TREND = Sql(
    f"SELECT s.cid, {BUCKET.format(column='t.created_at')} AS bucket, "  # noqa: S608
    f"{_ISSUED} AS issued, {_SPENT} AS spent, {_EXPIRED} AS expired {_TRANSFERS} GROUP BY s.cid, bucket"
)


async def _buckets(session: Any, scopes: Sequence[Scope]) -> list[Any]:
    """The flows of each community by bucket: one pass over the transfers serves the totals and
    the trend alike (the heaviest statement of the dashboards)."""
    return await figures.shared("ledger.trend", scopes, lambda: _TREND.fetch(session, scope_arrays(scopes)))


async def _flow(session: Any, scopes: Sequence[Scope], column: str) -> dict[int, int]:
    found: dict[int, int] = {}
    for row in await _buckets(session, scopes):
        found[int(row["cid"])] = found.get(int(row["cid"]), 0) + int(row[column])
    return found


@figures.figure(
    "points_issued",
    lazy("Points issued"),
    unit=lazy("points"),
    order=10,
    note=lazy("Points given to residents in the period, less what was taken back in it."),
)
async def points_issued(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    return await _flow(session, scopes, "issued")


@figures.figure(
    "points_spent",
    lazy("Points spent"),
    unit=lazy("points"),
    order=11,
    note=lazy(
        "Points paid from wallets to the love supermarket and the service circle in the period, less "
        "what was given back in it: a pickup or a voucher reversed in a later month is taken off here in "
        "that later month, while the two turnovers leave it out of the month it was made in."
    ),
)
async def points_spent(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    return await _flow(session, scopes, "spent")


@figures.figure("points_expired", lazy("Points expired"), unit=lazy("points"), order=12)
async def points_expired(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    return await _flow(session, scopes, "expired")


@figures.figure(
    "points_trend",
    lazy("Points issued and spent over time"),
    kind="series",
    unit=lazy("points"),
    keys={"issued": lazy("Points issued"), "spent": lazy("Points spent")},
    order=13,
    note=lazy("By day for up to two months, by week (from Monday) up to a year, by month beyond."),
)
async def points_trend(session: Any, scopes: Sequence[Scope]) -> dict[int, dict[str, dict[str, int]]]:
    found: dict[int, dict[str, dict[str, int]]] = {}
    for row in await _buckets(session, scopes):
        found.setdefault(int(row["cid"]), {})[row["bucket"].isoformat()] = {
            "issued": int(row["issued"]),
            "spent": int(row["spent"]),
        }
    return found
