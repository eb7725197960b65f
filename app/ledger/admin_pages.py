"""Staff pages of the points ledger about one resident: the balance and latest lines on the
resident's page (a part of app.accounts.admin_pages' resident page), and the whole statement on a
page of its own to print for someone without a phone."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import services as accounts
from app.accounts.admin_pages import ResidentPart, resident_part
from app.core import clock
from app.core.authz import Actor
from app.core.uow import connection_of
from app.core.web import render
from app.ledger import services
from app.ledger.pages import KIND_LABELS
from app.places.models import Community
from app.places.services import time_zone_of

# Who may see a resident's points: those who serve residents at the counter and at home.
READERS = ("admin", "staff", "grid_worker")
LATEST = 10
PRINTED_MAX = 300


@resident_part
async def points_part(
    session: AsyncSession, actor: Actor, community_id: int, user_id: int
) -> ResidentPart | None:
    if not actor.has(community_id, *READERS):
        return None
    conn = await connection_of(session)
    wallet = await services.wallet(conn, community_id, user_id)
    lines, more = await services.statement(conn, community_id, user_id, limit=LATEST)
    return ResidentPart(
        "ledger/_resident_points.html",
        {
            "wallet": wallet,
            "lines": lines,
            "more": more is not None,
            "kind_labels": KIND_LABELS,
            "time_zone": await time_zone_of(session, community_id),
            "may_award": actor.has(community_id, "admin"),
        },
    )


@get("/admin/c/{community_id:int}/residents/{user_id:int}/statement", include_in_schema=False)
async def resident_statement(
    request: Request, community_id: int, user_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    """The resident's statement, newest first, laid out for A4 paper."""
    user, membership = await accounts.membership_for(db_session, actor, community_id, user_id, *READERS)
    conn = await connection_of(db_session)
    wallet = await services.wallet(conn, community_id, user_id)
    lines: list[services.StatementLine] = []
    before: str | None = None  # the statement's cursor
    while len(lines) < PRINTED_MAX:
        page, before = await services.statement(
            conn, community_id, user_id, limit=min(100, PRINTED_MAX - len(lines)), before=before
        )
        lines.extend(page)
        if before is None:
            break
    community = await db_session.get(Community, community_id)
    return render(
        request,
        "ledger/resident_statement.html",
        community=community,
        user=user,
        membership=membership,
        wallet=wallet,
        lines=lines,
        cut_short=before is not None,
        printed_at=clock.now(),
        kind_labels=KIND_LABELS,
        time_zone=await time_zone_of(db_session, community_id),
    )


route_handlers = [resident_statement]
