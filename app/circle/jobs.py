"""The service circle's background job: void vouchers not used in time (the points come back)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.circle import vouchers
from app.core import jobs


@jobs.periodic("*/5 * * * *")
async def expire_circle_vouchers(session: AsyncSession) -> None:
    # A bounded batch per tick keeps each transaction short; the next tick takes the rest.
    await vouchers.expire_vouchers(session)
