"""The imports' periodic job (app.core.jobs): the files admins confirmed (app.imports.services)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.imports import services


@jobs.periodic("* * * * *", name=services.JOB)
async def make_imports(session: AsyncSession) -> None:
    """The confirmed files, one after the other (woken when one is confirmed; every minute too,
    for a file to import again), and old rows let go."""
    await services.make_queued(session)
