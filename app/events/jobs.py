"""Background work of the events: closing events whose end + grace has passed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.events import approvals


@jobs.periodic("*/5 * * * *", name="events.close_due")
async def close_due_events(session: AsyncSession) -> None:
    await approvals.close_due_events(session)
