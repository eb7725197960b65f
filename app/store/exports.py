"""The store's export (app.core.exports): per item over the period, what was ordered and how it
ended, the points spent, the goods that came in and the stock now; the monthly report's CSV is
this export of one month."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core import exports
from app.core.figures import Scope
from app.core.i18n import lazy
from app.store import services

NAME = "store"


@exports.export(
    NAME,
    lazy("Love supermarket: items"),
    columns=(
        lazy("Item"),
        lazy("Ordered"),
        lazy("Picked up"),
        lazy("Cancelled"),
        lazy("Expired"),
        lazy("Points spent"),
        lazy("Restocked"),
        lazy("Donated"),
        lazy("Stock now"),
    ),
    order=60,
    note=lazy(
        "Per item: orders made in the period by how they ended, points spent, goods in, and the stock now."
    ),
)
async def store_items(session: Any, scope: Scope) -> Sequence[Sequence[Any]]:
    rows = await services.report_rows(session, scope.community_id, scope.start, scope.end)
    return [
        (
            r.name,
            r.ordered,
            r.picked_up,
            r.cancelled,
            r.expired,
            r.points_spent,
            r.restocked,
            r.donated,
            r.stock,
        )
        for r in rows
    ]
