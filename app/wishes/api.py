"""The micro-wishes JSON API (API.md "Micro-wishes"). Delivery is confirmed only through
`POST /api/v1/scans` (app.wishes.scan_handlers)."""

from __future__ import annotations

from typing import Annotated

from litestar import Request, get, post
from litestar.params import Body, JSONBody, Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.authz import Actor
from app.core.fields import MAX_INT
from app.core.web import client_address
from app.wishes import reading, services
from app.wishes.schemas import (
    ClaimantOut,
    ClaimIn,
    CodeOut,
    ReviewIn,
    Status,
    StatusOut,
    ThanksIn,
    WishCreated,
    WishesOut,
    WishIn,
    WishItem,
    WishOut,
)


def _claimant(view: reading.WishView) -> ClaimantOut | None:
    c = view.claimed_by
    return None if c is None else ClaimantOut(kind=c.kind, id=c.id, name=c.name)  # type: ignore[arg-type]


@post("/api/v1/communities/{community_id:int}/wishes", tags=["wishes"], status_code=201)
async def api_post_wish(
    community_id: int, data: JSONBody[WishIn], actor: Actor, db_session: AsyncSession, request: Request
) -> WishCreated:
    wish_id = await services.post_wish(
        db_session,
        actor,
        community_id,
        title=data.title,
        description=data.description,
        for_user_id=data.for_user_id,
        consent_note=data.consent_note or "",
        funding_goal_cents=data.funding_goal_cents,
        kind=data.kind,
        address=client_address(request),
    )
    return WishCreated(id=wish_id, status="submitted")


@post("/api/v1/wishes/{wish_id:int}/review", tags=["wishes"], status_code=200)
async def api_review_wish(
    wish_id: int, data: JSONBody[ReviewIn], actor: Actor, db_session: AsyncSession, request: Request
) -> StatusOut:
    status = await services.review(
        db_session, actor, wish_id, data.decision, data.note or "", address=client_address(request)
    )
    return StatusOut(status=status)


@get("/api/v1/communities/{community_id:int}/wishes", tags=["wishes"])
async def api_list_wishes(
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    status: Status | None = None,
    page: Annotated[int, Parameter(ge=1, le=MAX_INT, description="500 wishes a page, newest first")] = 1,
) -> WishesOut:
    views, more = await reading.list_wishes(db_session, actor, community_id, status, page)
    return WishesOut(
        next_page=page + 1 if more else None,
        items=[
            WishItem(
                id=v.id,
                title=v.title,
                status=v.status,
                beneficiary_name=v.beneficiary_name,
                claimed_by=_claimant(v),
                compound=v.compound,
                kind=v.kind,
            )
            for v in views
        ],
    )


@get("/api/v1/wishes/{wish_id:int}", tags=["wishes"])
async def api_get_wish(wish_id: int, actor: Actor, db_session: AsyncSession) -> WishOut:
    v = await reading.get_wish(db_session, actor, wish_id)
    return WishOut(
        id=v.id,
        title=v.title,
        status=v.status,
        description=v.description,
        funded_cents=v.funded_cents,
        funding_goal_cents=v.funding_goal_cents,
        beneficiary_name=v.beneficiary_name,
        claimed_by=_claimant(v),
        thanks_note=v.thanks_note,
        compound=v.compound,
        kind=v.kind,
        thanks_photo_url=f"/wishes/{v.id}/photo" if v.thanks_photo else None,
    )


@post("/api/v1/wishes/{wish_id:int}/claim", tags=["wishes"], status_code=200)
async def api_claim_wish(
    wish_id: int,
    actor: Actor,
    db_session: AsyncSession,
    request: Request,
    data: Annotated[ClaimIn | None, Body()] = None,
) -> StatusOut:
    organisation_id = data.organisation_id if data is not None else None
    status = await services.claim(
        db_session, actor, wish_id, organisation_id, address=client_address(request)
    )
    return StatusOut(status=status)


@post("/api/v1/wishes/{wish_id:int}/release", tags=["wishes"], status_code=200)
async def api_release_wish(
    wish_id: int, actor: Actor, db_session: AsyncSession, request: Request
) -> StatusOut:
    return StatusOut(
        status=await services.release(db_session, actor, wish_id, address=client_address(request))
    )


@get("/api/v1/wishes/{wish_id:int}/delivery-code", tags=["wishes"])
async def api_delivery_code(
    wish_id: int, actor: Actor, db_session: AsyncSession, request: Request
) -> CodeOut:
    code, expires_at = await services.delivery_code(
        db_session, actor, wish_id, request.app.state["settings"].secret_key
    )
    return CodeOut(code=code, expires_at=expires_at)


@post("/api/v1/wishes/{wish_id:int}/thanks", tags=["wishes"], status_code=200)
async def api_thank(
    wish_id: int, data: JSONBody[ThanksIn], actor: Actor, db_session: AsyncSession, request: Request
) -> StatusOut:
    await services.thank(db_session, actor, wish_id, data.note, address=client_address(request))
    return StatusOut(status="delivered")


route_handlers = [
    api_post_wish,
    api_review_wish,
    api_list_wishes,
    api_get_wish,
    api_claim_wish,
    api_release_wish,
    api_delivery_code,
    api_thank,
]
