"""The ledger's periodic jobs: void expired holds, expire old points."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.core.uow import connection_of
from app.ledger import expiry


@jobs.periodic("* * * * *", name="ledger.void_expired_holds")
async def void_expired_holds(session: AsyncSession) -> int:
    return await expiry.void_expired_holds(await connection_of(session))


@jobs.periodic("17 3 * * *", name="ledger.expire_points")
async def expire_points(session: AsyncSession) -> int:
    return await expiry.expire_points(await connection_of(session))


@jobs.periodic("47 1 * * *", name="ledger.warn_expiring")
async def warn_expiring(session: AsyncSession) -> int:
    """Residents hear of points expiring within 30 days (once per wallet, month and amount)."""
    return await expiry.warn_expiring(await connection_of(session))
