"""A shop's vouchers redeemed today, as its page lists them: the newest first, a page at a time
with their count (app.core.paging), so that a busy morning's queue does not make one long page."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.circle.models import Offer, Voucher

# The shop page lists this many of today's redemptions a page.
PER_PAGE = 20


def _since(organisation_id: int, since: datetime, community_id: int | None) -> list[ColumnElement[bool]]:
    where = [Voucher.organisation_id == organisation_id, Voucher.redeemed_at >= since]
    return where if community_id is None else [*where, Voucher.community_id == community_id]


async def count_redeemed_since(
    session: AsyncSession, organisation_id: int, since: datetime, community_id: int | None = None
) -> int:
    stmt = select(func.count()).select_from(Voucher).where(*_since(organisation_id, since, community_id))
    return int(await session.scalar(stmt) or 0)


async def redeemed_since(
    session: AsyncSession,
    organisation_id: int,
    since: datetime,
    community_id: int | None = None,
    *,
    offset: int = 0,
) -> list[Row[Voucher, str, str]]:
    """A provider's vouchers redeemed since a moment, newest first, each with its offer's and its
    resident's names; those of one community only when `community_id` is given; a page of them
    from `offset`."""
    rows = await session.execute(
        select(Voucher, Offer.name, User.display_name)
        .join(Offer, Offer.id == Voucher.offer_id)
        .join(User, User.id == Voucher.user_id)
        .where(*_since(organisation_id, since, community_id))
        .order_by(Voucher.redeemed_at.desc(), Voucher.id.desc())
        .offset(offset)
        .limit(PER_PAGE)
    )
    return list(rows.all())
