"""Money's background jobs: Stripe's stored events applied within seconds of arriving, and the
reconciliation that recovers a completed Checkout whose webhook never came."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.core.settings import get_settings
from app.payments import services


@jobs.periodic("* * * * * */2", name="payments.handle_events")
async def handle_events(session: AsyncSession) -> None:
    await services.handle_waiting_events(session)


@jobs.periodic("*/10 * * * *", name="payments.reconcile")
async def reconcile(session: AsyncSession) -> None:
    await services.reconcile(session, get_settings())
