"""The wishes' pages: the public wish pool of a community (邻+圆梦池), open without a login and
showing no personal data."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import NotFound
from app.core.i18n import lazy
from app.core.web import render
from app.places.models import Community
from app.wishes import home as _home  # noqa: F401 - registers its share of the home page
from app.wishes import services

STATUS_LABELS = {
    "published": lazy("Waiting for someone"),
    "claimed": lazy("Taken up"),
    "delivered": lazy("Come true"),
}


@get("/c/{community_id:int}/wish-pool", include_in_schema=False)
async def wish_pool(request: Request, community_id: int, db_session: AsyncSession) -> Template:
    community = await db_session.get(Community, community_id)
    if community is None:
        raise NotFound()
    wishes = await services.public_pool(db_session, community_id)
    return render(
        request, "wishes/pool.html", community=community, wishes=wishes, status_labels=STATUS_LABELS
    )


route_handlers = [wish_pool]
