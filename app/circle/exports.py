"""The service circle's export (app.core.exports): the monthly statements of its providers, one row
per provider and month that the period touches, counted as the statements page counts them (kept
figures for a closed month, the vouchers for an open one); the statements page's CSV and Excel
links are this export of one month."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from app.circle import statements
from app.core import clock, exports
from app.core.figures import Scope
from app.core.i18n import lazy

NAME = "circle"
CASH = "circle_cash"


def months(scope: Scope) -> list[date]:
    """The first day of every month the period touches."""
    month, out = scope.first.replace(day=1), []
    while month <= scope.last:
        out.append(month)
        month = clock.next_month(month)
    return out


@exports.export(
    NAME,
    lazy("Service circle: monthly statements"),
    columns=(
        lazy("Month"),
        lazy("Provider"),
        lazy("Vouchers redeemed"),
        lazy("Points"),
        exports.column(lazy("Cash parts paid online (%(currency)s)"), money=True),
        exports.column(lazy("Rate per point (%(hundredths)s)"), money=True),
        exports.column(lazy("Cash due (%(currency)s)"), money=True),
        exports.column(lazy("Fund"), words=statements.FUND_LABELS),
        exports.column(lazy("Status"), words=statements.STATEMENT_LABELS),
    ),
    order=70,
    sheet=lazy("Circle monthly statements"),
    note=lazy("Each provider's statement of every month the period touches, as on the statements page."),
)
async def circle_statements(session: Any, scope: Scope) -> Sequence[Sequence[Any]]:
    out: list[Sequence[Any]] = []
    for month in months(scope):
        for f in await statements.month_figures(session, scope.community_id, month):
            out.append(
                (
                    f.month_text,
                    f.name,
                    f.vouchers,
                    f.points,
                    Decimal(f.cash_collected_cents).scaleb(-2),
                    f.fen_per_point,
                    Decimal(f.cash_cents_due).scaleb(-2),
                    f.fund,
                    f.status,
                )
            )
    return out


@exports.export(
    CASH,
    lazy("Service circle: cash parts paid online"),
    columns=(
        lazy("Month"),
        lazy("Provider"),
        lazy("Voucher"),
        lazy("Service"),
        lazy("Redeemed at"),
        lazy("Points"),
        exports.column(lazy("Cash part (%(currency)s)"), money=True),
        exports.column(lazy("Paid online (%(currency)s)"), money=True),
    ),
    order=71,
    sheet=lazy("Circle cash paid online"),
    note=lazy(
        "Every voucher with a cash part redeemed in the period, with what its online payment brings "
        "in now (0 when it was refunded), as on the statements page; a closed month's statement keeps "
        "what was paid when it closed."
    ),
)
async def circle_cash(session: Any, scope: Scope) -> Sequence[Sequence[Any]]:
    out: list[Sequence[Any]] = []
    for month in months(scope):
        names = {
            f.organisation_id: f.name
            for f in await statements.month_figures(session, scope.community_id, month)
        }
        for line in await statements.cash_lines(session, scope.community_id, month):
            out.append(
                (
                    clock.month_text(month),
                    names.get(line.organisation_id, ""),
                    line.voucher_id,
                    line.offer,
                    clock.local(line.redeemed_at, scope.time_zone),
                    line.points,
                    Decimal(line.cash_cents).scaleb(-2),
                    Decimal(line.collected_cents).scaleb(-2),
                )
            )
    return out
