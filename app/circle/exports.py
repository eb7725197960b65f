"""The service circle's export (app.core.exports): the monthly statements of its providers, one row
per provider and month that the period touches, counted as the statements page counts them (kept
figures for a closed month, the vouchers for an open one); the statements page's CSV and Excel
links are this export of one month."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from app.circle import rules, statements
from app.core import exports
from app.core.figures import Scope
from app.core.i18n import lazy
from app.places.models import Community

NAME = "circle"


def month_scope(community: Community, month: date) -> Scope:
    """One calendar month of the community, as an export's period."""
    return Scope(community.id, month, rules.next_month(month) - timedelta(days=1), community.time_zone)


def months(scope: Scope) -> list[date]:
    """The first day of every month the period touches."""
    month, out = scope.first.replace(day=1), []
    while month <= scope.last:
        out.append(month)
        month = rules.next_month(month)
    return out


@exports.export(
    NAME,
    lazy("Service circle: monthly statements"),
    columns=(
        lazy("Month"),
        lazy("Provider"),
        lazy("Vouchers redeemed"),
        lazy("Points"),
        lazy("Fen per point"),
        lazy("Cash due (yuan)"),
        exports.column(lazy("Fund"), words=statements.FUND_LABELS),
        exports.column(lazy("Status"), words=statements.STATEMENT_LABELS),
    ),
    order=70,
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
                    f.fen_per_point,
                    Decimal(f.cash_cents_due).scaleb(-2),
                    f.fund,
                    f.status,
                )
            )
    return out
