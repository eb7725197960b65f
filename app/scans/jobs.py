"""The scan entry's background job: forget the answers kept for scans sent again
(app.scans.services) once no scanner would send them again."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.core.uow import connection_of
from app.scans import services


@jobs.periodic("17 * * * *", name="scans.forget_replies")
async def forget_replies(session: AsyncSession) -> int:
    return await services.forget_replies(await connection_of(session))
