"""A person's own vouchers, as "My vouchers" lists them: those still to use, all of them (they hold
points and expire), and the used, cancelled and expired ones a page at a time with their count."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.circle.models import Offer, Rating, Voucher
from app.places.models import Community

OPEN_STATUSES = ("held", "awaiting_payment")


def _open_or_not(still_open: bool) -> ColumnElement[bool]:
    is_open = Voucher.status.in_(OPEN_STATUSES)
    return is_open if still_open else ~is_open


async def vouchers_of(
    session: AsyncSession, user_id: int, *, still_open: bool, limit: int | None = None, offset: int = 0
) -> Sequence[Row[Voucher, str, str, bool]]:
    """(voucher, offer's name, its community's time zone, rated), newest first: each voucher's
    times are read in its own community's zone (a person may belong to several)."""
    rows = await session.execute(
        select(Voucher, Offer.name, Community.time_zone, Rating.voucher_id.is_not(None))
        .join(Offer, Offer.id == Voucher.offer_id)
        .join(Community, Community.id == Voucher.community_id)
        .outerjoin(Rating, Rating.voucher_id == Voucher.id)
        .where(Voucher.user_id == user_id, _open_or_not(still_open))
        .order_by(Voucher.created_at.desc(), Voucher.id.desc())
        .offset(offset)
        .limit(limit)
    )
    return rows.all()


async def count_vouchers_of(session: AsyncSession, user_id: int, *, still_open: bool) -> int:
    stmt = (
        select(func.count()).select_from(Voucher).where(Voucher.user_id == user_id, _open_or_not(still_open))
    )
    return int(await session.scalar(stmt) or 0)
