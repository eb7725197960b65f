"""Money's background jobs: Stripe's stored events applied as soon as they are stored (the job is
woken then; every minute too, for an event whose run failed), and the reconciliation that
recovers a completed Checkout whose webhook never came."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.core.settings import get_settings
from app.payments import stripe_events


@jobs.periodic("* * * * *", name=stripe_events.HANDLE_EVENTS)
async def handle_events(session: AsyncSession) -> None:
    await stripe_events.handle_waiting_events(session)


@jobs.periodic("*/10 * * * *", name="payments.reconcile")
async def reconcile(session: AsyncSession) -> None:
    await stripe_events.reconcile(session, get_settings())
