"""The notices' job: send the webhook deliveries that are due (app.notices.webhooks)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import jobs
from app.core.uow import connection_of
from app.notices import webhooks


@jobs.periodic("* * * * *", name="notices.deliver_webhooks")
async def deliver_webhooks(session: AsyncSession) -> dict[str, int]:
    return await webhooks.deliver_due(await connection_of(session))
