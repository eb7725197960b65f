"""The notices' JSON API: `GET /api/v1/me/notifications` (API.md), in the reader's language; and
marking one read (docs/webhooks.md lists it beside the webhook)."""

from __future__ import annotations

from litestar import Request, get, post

from app.core.authz import Actor
from app.core.i18n import gettext_for
from app.core.uow import Connection
from app.notices import services
from app.notices.schemas import NoticeLine, NoticesOut, ReadOut


@get("/api/v1/me/notifications", tags=["me"])
async def api_notifications(request: Request, actor: Actor, conn: Connection) -> NoticesOut:
    lines = await services.inbox(conn, actor.user_id, gettext_for(request))
    return NoticesOut(
        items=[
            NoticeLine(
                id=line.id,
                kind=line.kind,
                title=line.title,
                body=line.body,
                created_at=line.created_at.isoformat(),
                read=line.read,
            )
            for line in lines
        ]
    )


@post("/api/v1/me/notifications/{notice_id:int}/read", tags=["me"], status_code=200)
async def api_read(actor: Actor, conn: Connection, notice_id: int) -> ReadOut:
    await services.mark_read(conn, actor.user_id, notice_id)
    return ReadOut(unread=await services.unread_count(conn, actor.user_id))


route_handlers = [api_notifications, api_read]
