"""The partners' background job: owners hear of project deadlines near."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.partners import deadlines


@jobs.periodic("7 * * * *", name="partners.tell_deadlines")
async def tell_project_deadlines(session: AsyncSession) -> int:
    return await deadlines.tell_near(session)
