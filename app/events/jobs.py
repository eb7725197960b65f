"""Background work of the events: closing events whose end + grace has passed, and reminding
people of the events they signed up for the day before."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.events import approvals, reminders


@jobs.periodic("*/5 * * * *", name="events.close_due")
async def close_due_events(session: AsyncSession) -> None:
    await approvals.close_due_events(session)


@jobs.periodic("*/15 * * * *", name="events.send_reminders")
async def send_event_reminders(session: AsyncSession) -> int:
    return await reminders.send_reminders(session)
