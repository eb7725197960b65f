"""The reports' periodic jobs (app.core.jobs): the exports queued by admins (app.reports.exporting)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.reports import exporting


@jobs.periodic("* * * * *", name=exporting.JOB)
async def make_exports(session: AsyncSession) -> None:
    """The queued exports, one after the other (woken when one is queued; every minute too, for a
    run to make again), and the expired files deleted."""
    await exporting.make_queued(session)
