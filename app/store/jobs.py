"""The store's background jobs: void orders not picked up in time (points and stock come back),
and tell residents their orders are ready to pick up."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.store import orders, ready


@jobs.periodic("*/5 * * * *")
async def expire_store_orders(session: AsyncSession) -> None:
    # A bounded batch per tick keeps each transaction short; the next tick takes the rest.
    await orders.expire_orders(session)


@jobs.periodic("* * * * *", name="store.tell_ready")
async def tell_orders_ready(session: AsyncSession) -> int:
    return await ready.tell_ready(session)
