"""The notices' share of the home page (app.core.homes): the unread count for everyone, and the
webhook for a community's admin."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import homes
from app.core.authz import Actor
from app.core.i18n import lazy
from app.notices import services


@homes.part
async def home(session: AsyncSession, actor: Actor, community: Any) -> homes.HomePart:
    cid = community.id
    part = homes.HomePart(links=[("/notices/settings", lazy("Which notices I get"))])
    unread = await services.unread_count(session, actor.user_id)
    if unread:
        part.mine.append(
            homes.Figure(lazy("Unread notices"), unread, "/notices", attention=True, order=20, icon="bell")
        )
    if actor.has(cid, "admin"):
        part.links.append((f"/admin/c/{cid}/webhook", lazy("Notices: outgoing webhook")))
    return part
