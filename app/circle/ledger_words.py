"""What the service circle's transfers were for, in the reader's language (app.ledger.words),
and which of them may no longer be reversed (app.ledger.reversals). The assembly imports it
(app.domains.load_ledger_words)."""

from __future__ import annotations

from typing import Any

from app.core.errors import DomainError
from app.core.i18n import lazy
from app.core.uow import Connection, Sql
from app.ledger import reversals, words

# A redemption in a month whose statement is closed: the statement keeps its figures and its
# points were settled, so taking the redemption back would leave the dashboard's vouchers and
# turnover of that month below the statement's, and the provider's account short of a later
# month's points.
_IN_CLOSED_MONTH = Sql(
    "SELECT 1 FROM circle_vouchers v JOIN communities c ON c.id = v.community_id "
    "JOIN circle_statements s ON s.community_id = v.community_id AND s.organisation_id = v.organisation_id "
    "AND s.month = CAST(date_trunc('month', v.redeemed_at AT TIME ZONE c.time_zone) AS date) "
    "WHERE v.transfer_id = :t"
)


@words.renders("circle_voucher")
def _voucher_words(reason: dict[str, Any], gettext: words.Gettext) -> str:
    """A voucher's line on the statement: the service."""
    return gettext(lazy("Service voucher: %(offer)s"), offer=reason["offer"])


@words.renders("circle_settlement")
def _settlement_words(reason: dict[str, Any], gettext: words.Gettext) -> str:
    # After the kind's tag ("Service circle settlement"): only the month it settles.
    return gettext(lazy("for %(month)s"), month=reason["month"])


@reversals.checks("circle_voucher")
async def _closed_month(conn: Connection, transfer_id: int) -> None:
    if await _IN_CLOSED_MONTH.fetchval(conn, {"t": transfer_id}) is not None:
        raise DomainError(
            "conflict", 409, lazy("A statement is final: this voucher's month is closed and cannot change.")
        )
