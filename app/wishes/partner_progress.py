"""What micro-wishes count towards a partner unit's agreement: the wishes it delivered, registered
with app.core.organisations when the assembly imports this module
(app.domains.register_partner_progress)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import organisations
from app.core.uow import Sql

_DELIVERED = Sql(
    "SELECT count(*) FROM wishes WHERE community_id = :c AND status = 'delivered' "
    "AND delivered_at >= :start AND delivered_at < :end "
    "AND (claimed_organisation_id = :org OR (claimed_organisation_id IS NULL AND claimed_by = ANY(:users)))"
)


async def count_delivered(
    session: AsyncSession,
    *,
    organisation_id: int,
    community_id: int,
    start: datetime,
    end: datetime,
    user_ids: tuple[int, ...],
    **_: Any,
) -> int:
    """Wishes delivered in the community within [start, end) by the organisation, or by people
    whose work counts for it (its members and in-service registrants claiming as themselves)."""
    return int(
        await _DELIVERED.fetchval(
            session,
            {
                "c": community_id,
                "start": start,
                "end": end,
                "org": organisation_id,
                "users": list(user_ids),
            },
        )
    )


organisations.counts_progress("wishes", count_delivered)
