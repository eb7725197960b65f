"""The love supermarket's figures for the dashboards (app.core.figures): orders picked up and the
points they took (the store's turnover), by the day of the pickup; a pickup counts while it stands
(an admin's reversal of its transfer gave the resident the points back, as the ledger's points
spent says)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core import figures
from app.core.figures import SCOPES, Scope, scope_arrays
from app.core.i18n import lazy
from app.core.uow import Sql
from app.store import report

_PICKED_UP = Sql(
    "SELECT s.cid, count(o.id) AS orders, COALESCE(sum(o.points), 0) AS points "  # noqa: S608
    f"FROM {SCOPES} "
    f"JOIN store_orders o ON o.community_id = s.cid AND {report.standing_pickups('o', 's.lo', 's.hi')} "
    "GROUP BY s.cid"
)


async def _picked_up(session: Any, scopes: Sequence[Scope]) -> list[Any]:
    return await figures.shared(
        "store.picked_up", scopes, lambda: _PICKED_UP.fetch(session, scope_arrays(scopes))
    )


@figures.figure(
    "orders_picked_up",
    lazy("Orders picked up"),
    unit=lazy("orders"),
    order=60,
    note=lazy(
        "Orders handed over at the counter in the period, whenever they were placed, less any pickup "
        "an admin reversed; the store's monthly report shows them per item."
    ),
)
async def orders_picked_up(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    rows = await _picked_up(session, scopes)
    return {int(row["cid"]): int(row["orders"]) for row in rows}


@figures.figure(
    "store_turnover",
    lazy("Love supermarket turnover"),
    unit=lazy("points"),
    order=61,
    note=lazy("The points of those orders picked up."),
)
async def store_turnover(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    rows = await _picked_up(session, scopes)
    return {int(row["cid"]): int(row["points"]) for row in rows}
