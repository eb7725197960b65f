"""The imports' periodic job (app.core.jobs): the files admins confirmed (app.imports.services)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.imports import services


@jobs.periodic("* * * * * */2")
async def make_imports(session: AsyncSession) -> None:
    """Every two seconds: the confirmed files, one after the other; old rows let go."""
    await services.make_queued(session)
