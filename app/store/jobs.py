"""The store's background job: void orders not picked up in time (points and stock come back)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.store import orders


@jobs.periodic("*/5 * * * *")
async def expire_store_orders(session: AsyncSession) -> None:
    # A bounded batch per tick keeps each transaction short; the next tick takes the rest.
    await orders.expire_orders(session)
