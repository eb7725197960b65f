"""The store's export (app.core.exports): per item over the period, what was ordered and how it
ended, what was picked up and its points, the goods that came in and the stock now; the monthly
report's page, CSV and Excel file are this export of one month (app.store.report)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core import exports
from app.core.figures import Scope
from app.core.i18n import lazy
from app.store import report

NAME = "store"


COLUMNS = (
    lazy("Item"),
    lazy("Items ordered"),
    lazy("Of them picked up"),
    lazy("Of them cancelled"),
    lazy("Of them expired"),
    lazy("Orders picked up"),
    lazy("Items picked up"),
    lazy("Love supermarket turnover"),
    lazy("Restocked"),
    lazy("Donated"),
    lazy("Stock now"),
)
NOTE = lazy(
    "Items ordered: in the orders placed in the period, then how those orders ended (one still held is "
    "in none of them). Orders picked up, items picked up and turnover: handed over in the period, "
    "whenever they were ordered, less any pickup an admin reversed; added up they are the month's "
    "figures of the same names on the dashboard."
)


@exports.export(NAME, lazy("Love supermarket: items"), columns=COLUMNS, order=60, note=NOTE)
async def store_items(session: Any, scope: Scope) -> Sequence[Sequence[Any]]:
    rows = await report.report_rows(session, scope.community_id, scope.start, scope.end)
    return [
        (
            r.name,
            r.ordered,
            r.picked_up,
            r.cancelled,
            r.expired,
            r.orders_picked_up,
            r.items_picked_up,
            r.turnover,
            r.restocked,
            r.donated,
            r.stock,
        )
        for r in rows
    ]
