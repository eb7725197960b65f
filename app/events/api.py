"""Events' JSON API (API.md): create an event, sign up, the kiosk's code and live count."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.authz import Actor
from app.core.fields import KioskAction
from app.core.settings import Settings
from app.core.web import client_address
from app.events import checkins, kiosk, services
from app.events.schemas import CodeOut, EventCreate, EventCreated, SignupOut


def _input_from_api(data: EventCreate) -> services.EventInput:
    return services.EventInput(
        title=data.title,
        category=data.category,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        capacity=data.capacity,
        points_per_attendance=data.points_per_attendance,
        points_per_hour=data.points_per_hour,
        max_points=data.max_points,
        auto_award=data.auto_award,
        signup_required=data.signup_required,
        description=data.description,
        place=data.place,
        kiosk_enabled=data.kiosk_enabled,
        kiosk_confirmation=data.kiosk_confirmation,
        reentry_allowed=data.reentry_allowed,
        organiser_ids=list(data.organiser_ids),
    )


@post("/api/v1/communities/{community_id:int}/events", tags=["community admin"], status_code=201)
async def api_create_event(
    community_id: int, data: JSONBody[EventCreate], actor: Actor, db_session: AsyncSession, request: Request
) -> EventCreated:
    events = await services.create_event(
        db_session,
        actor,
        community_id,
        _input_from_api(data),
        weeks=data.weeks,
        address=client_address(request),
    )
    return EventCreated(id=events[0].id, series=[e.id for e in events] if len(events) > 1 else [])


@post("/api/v1/events/{event_id:int}/signups", tags=["earning"], status_code=201)
async def api_sign_up(event_id: int, actor: Actor, db_session: AsyncSession) -> SignupOut:
    return SignupOut(status=await services.sign_up(db_session, actor, event_id))


@get("/api/v1/events/{event_id:int}/code", tags=["earning"])
async def api_event_code(
    event_id: int, actor: Actor, db_session: AsyncSession, settings: Settings, action: KioskAction = "checkin"
) -> Response[CodeOut]:
    event = await kiosk.kiosk_event(db_session, actor, event_id, action)
    code, refresh, expires = kiosk.current_code(settings, event, action)
    return Response(
        CodeOut(code=code, expires_at=expires.isoformat(), refresh_at=refresh.isoformat()),
        headers={"cache-control": "no-store"},
    )


@get("/api/v1/events/{event_id:int}/live", tags=["earning"])
async def api_event_live(event_id: int, actor: Actor, db_session: AsyncSession) -> dict[str, int]:
    await services.event_in(db_session, actor, event_id, *services.ORGANISER_ROLES)
    return await checkins.live_count(db_session, event_id)


route_handlers = [
    api_create_event,
    api_sign_up,
    api_event_code,
    api_event_live,
]
