"""The service circle's background jobs: void vouchers not used in time (the points come back),
withdraw the offers of providers whose agreement has lapsed, and refund the cash part of vouchers
closed unused."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.circle import cash, services, vouchers
from app.core import jobs
from app.core.settings import get_settings


@jobs.periodic("*/5 * * * *")
async def expire_circle_vouchers(session: AsyncSession) -> None:
    # A bounded batch per tick keeps each transaction short; the next tick takes the rest.
    await vouchers.expire_vouchers(session)


@jobs.periodic("*/5 * * * *")
async def withdraw_lapsed_circle_offers(session: AsyncSession) -> None:
    # A provider's agreement with a community is for one year: when it is over, its offers there end.
    await services.withdraw_lapsed_offers(session)


@jobs.periodic("* * * * *")
async def refund_unused_cash(session: AsyncSession) -> None:
    await cash.refund_unused(session, get_settings())
