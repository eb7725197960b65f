"""The wishes' background job: claims not delivered within the community's number of days go
back to the pool, and both sides are told."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.wishes import stale


@jobs.periodic("17 * * * *")
async def release_stale_wish_claims(session: AsyncSession) -> None:
    await stale.release_stale_claims(session)
