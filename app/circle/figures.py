"""The service circle's figures for the dashboards (app.core.figures): vouchers redeemed and the
points they took, by the moment of the redemption."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.circle.statements import REDEEMED
from app.core import figures
from app.core.figures import SCOPES, Scope, scope_arrays
from app.core.i18n import lazy
from app.core.uow import Sql

_REDEEMED = Sql(
    "SELECT s.cid, count(v.id) AS vouchers, COALESCE(sum(v.points), 0) AS points "  # noqa: S608
    f"FROM {SCOPES} "
    f"JOIN circle_vouchers v ON v.community_id = s.cid AND {REDEEMED} "
    "AND v.redeemed_at >= s.lo AND v.redeemed_at < s.hi "
    "GROUP BY s.cid"
)


@figures.figure("vouchers_redeemed", lazy("Service vouchers redeemed"), unit=lazy("vouchers"), order=62)
async def vouchers_redeemed(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    rows = await _REDEEMED.fetch(session, scope_arrays(scopes))
    return {int(row["cid"]): int(row["vouchers"]) for row in rows}


@figures.figure("circle_turnover", lazy("Service circle turnover"), unit=lazy("points"), order=63)
async def circle_turnover(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    rows = await _REDEEMED.fetch(session, scope_arrays(scopes))
    return {int(row["cid"]): int(row["points"]) for row in rows}
