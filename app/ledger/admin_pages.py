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
from app.core.errors import Invalid
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
    request: Request,
    community_id: int,
    user_id: int,
    actor: Actor,
    db_session: AsyncSession,
    before: str = "",
) -> Template:
    """The resident's statement, newest first, laid out for A4 paper: PRINTED_MAX lines a sheet,
    which says which lines of how many it holds and leads to the older ones (`before`, the
    statement's cursor: the ledger pages by keyset, app.ledger.services.statement)."""
    user, membership = await accounts.membership_for(db_session, actor, community_id, user_id, *READERS)
    conn = await connection_of(db_session)
    wallet = await services.wallet(conn, community_id, user_id)
    try:
        newer = (
            await services.statement_count(conn, community_id, user_id, newer_than=before) if before else 0
        )
    except Invalid:  # a mangled link: the newest lines
        before, newer = "", 0
    start = before or None
    lines: list[services.StatementLine] = []
    while len(lines) < PRINTED_MAX:
        page, start = await services.statement(
            conn, community_id, user_id, limit=min(100, PRINTED_MAX - len(lines)), before=start
        )
        lines.extend(page)
        if start is None:
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
        total=await services.statement_count(conn, community_id, user_id),
        first=newer + 1,
        older=start,  # the cursor of the next sheet, if any
        newest=bool(before),  # a sheet past the first leads back to the newest lines
        printed_at=clock.now(),
        kind_labels=KIND_LABELS,
        time_zone=await time_zone_of(db_session, community_id),
    )


route_handlers = [resident_statement]
