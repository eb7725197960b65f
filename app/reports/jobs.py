"""The reports' periodic jobs (app.core.jobs): the exports queued by admins (app.reports.exporting)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.reports import exporting


@jobs.periodic("* * * * * */2")
async def make_exports(session: AsyncSession) -> None:
    """Every two seconds: the queued exports, one after the other; the expired files deleted."""
    await exporting.make_queued(session)
