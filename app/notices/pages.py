"""The notices' pages: a person's inbox with mark-read, the kinds they choose to get, and the
admin's outgoing webhook with its delivery log. The unread count on every page is
`unread_badge`, which the assembly hands to app.core.rendering (core names no layer above it)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock, paging
from app.core.authz import Actor
from app.core.errors import DomainError
from app.core.i18n import gettext_for
from app.core.settings import Settings
from app.core.web import database, error_message, form_data, optional_int, render, reopen_form
from app.notices import home as _home  # noqa: F401 - registers its share of the home page
from app.notices import services, webhooks, words
from app.places.services import time_zone_of, time_zones_of


async def unread_badge(request: Request, actor: Actor) -> dict[str, Any]:
    """What the base template shows beside the inbox link: the unread count, read on a pooled
    connection before the page's unit of work takes its own."""
    async with database(request).connection() as conn:
        return {"unread_notices": await services.unread_count(conn, actor.user_id)}


@get("/notices", include_in_schema=False)
async def inbox_page(request: Request, actor: Actor, db_session: AsyncSession, page: str = "") -> Template:
    """Each notice's time in its own community's zone (the zones read in one statement); one that
    names no community in the zone of the reader's first community. INBOX_SIZE a page, with the
    count of them all."""
    total = await services.count(db_session, actor.user_id)
    at = paging.window(total, optional_int(page), services.INBOX_SIZE)
    lines = await services.inbox(
        db_session, actor.user_id, gettext_for(request), limit=services.INBOX_SIZE, offset=at.offset
    )
    first = min(actor.roles, default=None)
    wanted = {line.community_id for line in lines if line.community_id is not None}
    zones = await time_zones_of(db_session, wanted | ({first} if first is not None else set()))
    reader = zones.get(first, clock.DEFAULT_ZONE) if first is not None else clock.DEFAULT_ZONE
    return render(
        request,
        "notices/inbox.html",
        lines=lines,
        # Every unread one, as the badge counts them, whichever page is read.
        unread=await services.unread_count(db_session, actor.user_id),
        total=total,
        page=at.number,
        pages=at.pages,
        zones=zones,
        time_zone=reader,
    )


@post("/notices/read", include_in_schema=False)
async def read_all(actor: Actor, db_session: AsyncSession) -> Redirect:
    await services.mark_read(db_session, actor.user_id, None)
    return Redirect("/notices", status_code=303)


@post("/notices/{notice_id:int}/read", include_in_schema=False)
async def read_one(request: Request, actor: Actor, db_session: AsyncSession, notice_id: int) -> Redirect:
    """Back to the notice on the inbox's page its form was on (`page`, a field of the form)."""
    await services.mark_read(db_session, actor.user_id, notice_id)
    page = optional_int((await form_data(request)).get("page"))
    return Redirect(f"/notices{f'?page={page}' if page and page > 1 else ''}#n{notice_id}", status_code=303)


@get("/notices/settings", include_in_schema=False)
async def settings_page(request: Request, actor: Actor, db_session: AsyncSession, saved: int = 0) -> Template:
    off = await services.muted(db_session, actor.user_id)
    return render(request, "notices/settings.html", kinds=words.kinds(), off=off, saved=bool(saved))


@post("/notices/settings", include_in_schema=False)
async def save_settings(request: Request, actor: Actor, db_session: AsyncSession) -> Redirect:
    form = await request.form()
    wanted = {str(value) for value in form.getall("kinds", []) if isinstance(value, str)}
    await services.choose(db_session, actor.user_id, wanted)
    return Redirect("/notices/settings?saved=1", status_code=303)


# ---------------------------------------------------------------- the admin's webhook


# The webhook's delivery log is listed this many a page, the newest first.
LOG_PAGE = 100


async def _webhook_page(
    request: Request, db_session: AsyncSession, community_id: int, page: int | None = None, **context: Any
) -> Template:
    total = await webhooks.delivery_count(db_session, community_id)
    at = paging.window(total, page, LOG_PAGE)
    return render(
        request,
        "notices/webhook.html",
        community_id=community_id,
        webhook=await webhooks.webhook_of(db_session, community_id),
        log=await webhooks.delivery_log(db_session, community_id, LOG_PAGE, at.offset),
        log_total=total,
        page=at.number,
        pages=at.pages,
        time_zone=await time_zone_of(db_session, community_id),
        max_attempts=webhooks.MAX_ATTEMPTS,
        **context,
    )


@get("/admin/c/{community_id:int}/webhook", include_in_schema=False)
async def webhook_page(
    request: Request,
    actor: Actor,
    db_session: AsyncSession,
    community_id: int,
    done: str = "",
    page: str = "",
) -> Template:
    actor.require(community_id, "admin")
    return await _webhook_page(request, db_session, community_id, optional_int(page), done=done)


@post("/admin/c/{community_id:int}/webhook", include_in_schema=False)
async def save_webhook(
    request: Request, actor: Actor, db_session: AsyncSession, settings: Settings, community_id: int
) -> Redirect | Template:
    actor.require(community_id, "admin")
    form = await form_data(request)
    try:
        if form.get("action") == "test":
            if await webhooks.webhook_of(db_session, community_id) is None:
                raise DomainError("validation_error", 422, webhooks.NO_WEBHOOK)
            await services.notify(
                db_session,
                user_id=actor.user_id,
                community_id=community_id,
                kind="test",
                key=f"test:{community_id}:{clock.now().isoformat()}",
            )
            return Redirect(f"/admin/c/{community_id}/webhook?done=test", status_code=303)
        await webhooks.configure(
            db_session,
            community_id,
            url=form.get("url", ""),
            enabled=form.get("enabled") == "1",
            new_key=form.get("new_secret") == "1",
            actor_id=actor.user_id,
            allow_private=settings.webhook_private_targets,
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _webhook_page(
            request, db_session, community_id, error=error_message(request, exc), url=form.get("url", "")
        )
    return Redirect(f"/admin/c/{community_id}/webhook?done=saved", status_code=303)


route_handlers = [
    inbox_page,
    read_all,
    read_one,
    settings_page,
    save_settings,
    webhook_page,
    save_webhook,
]
