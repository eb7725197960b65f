"""Accounts' JSON API (API.md): tokens, registration, me and my card, a community's residents."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import appointing, logins, member_cards, moving, services
from app.accounts.schemas import (
    AdminAppoint,
    AdminAppointed,
    AdminOut,
    AdminsOut,
    CardResponse,
    MembershipOut,
    MeResponse,
    MovedAwayOut,
    RegisterRequest,
    RegisterResponse,
    ResidentCreate,
    ResidentCreated,
    RolesUpdate,
    TokenRequest,
    TokenResponse,
    UserBrief,
)
from app.core import qr
from app.core.authz import Actor
from app.core.settings import Settings
from app.core.web import client_address
from app.places.models import Community


@post("/api/v1/auth/token", tags=["auth"], status_code=200)
async def api_token(
    data: JSONBody[TokenRequest], request: Request, db_session: AsyncSession, settings: Settings
) -> TokenResponse:
    user = await logins.login(request, db_session, settings, data.phone, data.password)
    token = await services.create_auth_session(
        db_session, settings, user.id, "token", client_address(request)
    )
    return TokenResponse(access_token=token, user=UserBrief(id=user.id, display_name=user.display_name))


@post("/api/v1/auth/register", tags=["auth"], status_code=201)
async def api_register(
    data: JSONBody[RegisterRequest], request: Request, db_session: AsyncSession, settings: Settings
) -> RegisterResponse:
    user, membership = await logins.register(
        request,
        db_session,
        settings,
        phone=data.phone,
        password=data.password,
        display_name=data.display_name,
        join_code=data.join_code,
    )
    return RegisterResponse(user_id=user.id, community_id=membership.community_id)


@get("/api/v1/me", tags=["me"])
async def api_me(actor: Actor, db_session: AsyncSession) -> MeResponse:
    names = (
        dict(
            (
                await db_session.execute(
                    select(Community.id, Community.name).where(Community.id.in_(list(actor.roles)))
                )
            ).all()
        )
        if actor.roles
        else {}
    )
    return MeResponse(
        id=actor.user_id,
        display_name=actor.display_name,
        memberships=[
            MembershipOut(community_id=cid, community_name=names.get(cid, ""), roles=sorted(roles))
            for cid, roles in sorted(actor.roles.items())
        ],
        street_admin_of=sorted(actor.street_ids),
    )


@get("/api/v1/me/card", tags=["me"])
async def api_me_card(actor: Actor, db_session: AsyncSession) -> CardResponse:
    code, expires = await member_cards.phone_card_code(db_session, actor.user_id)
    return CardResponse(code=code, expires_at=expires.isoformat())


@get("/api/v1/me/card.svg", tags=["me"], media_type="image/svg+xml")
async def api_me_card_svg(actor: Actor, db_session: AsyncSession) -> Response:
    code, _exp = await member_cards.phone_card_code(db_session, actor.user_id)
    return Response(qr.svg(code), media_type="image/svg+xml", headers={"cache-control": "no-store"})


@post("/api/v1/communities/{community_id:int}/residents", tags=["community admin"], status_code=201)
async def api_add_resident(
    community_id: int,
    data: JSONBody[ResidentCreate],
    actor: Actor,
    db_session: AsyncSession,
    request: Request,
) -> ResidentCreated:
    user = await services.add_resident(
        db_session,
        actor,
        community_id,
        services.ResidentInput(
            display_name=data.display_name,
            phone=data.phone,
            password=data.password,
            roles=data.roles,
            compound_id=data.compound_id,
            building_id=data.building_id,
        ),
        address=client_address(request),
    )
    return ResidentCreated(user_id=user.id)


@get("/api/v1/communities/{community_id:int}/residents/{user_id:int}", tags=["community admin"])
async def api_get_resident(community_id: int, user_id: int, actor: Actor, db_session: AsyncSession) -> dict:
    user, membership = await services.membership_for(
        db_session, actor, community_id, user_id, "admin", "staff", "grid_worker"
    )
    return {
        "user_id": user.id,
        "display_name": user.display_name,
        "phone": user.phone,
        "roles": membership.roles,
        "compound_id": membership.compound_id,
        "building_id": membership.building_id,
    }


@post(
    "/api/v1/communities/{community_id:int}/residents/{user_id:int}/roles",
    tags=["community admin"],
    status_code=200,
)
async def api_set_roles(
    community_id: int,
    user_id: int,
    data: JSONBody[RolesUpdate],
    actor: Actor,
    db_session: AsyncSession,
    request: Request,
) -> dict:
    membership = await services.set_roles(
        db_session, actor, community_id, user_id, data.roles, client_address(request)
    )
    return {"user_id": user_id, "roles": membership.roles}


@get("/api/v1/communities/{community_id:int}/admins", tags=["street admin"])
async def api_community_admins(community_id: int, actor: Actor, db_session: AsyncSession) -> AdminsOut:
    """The community's admins: for the street admin of its street, and its own admins and staff."""
    admins = await appointing.admins_for(db_session, actor, community_id)
    return AdminsOut(items=[AdminOut(user_id=a.user_id, display_name=a.display_name) for a in admins])


@post(
    "/api/v1/communities/{community_id:int}/admins",
    tags=["street admin"],
    status_code=201,
    responses={200: ResponseSpec(AdminAppointed, description="They already were its admin: nothing changed")},
)
async def api_appoint_admin(
    community_id: int,
    data: JSONBody[AdminAppoint],
    actor: Actor,
    db_session: AsyncSession,
    request: Request,
) -> Response[AdminAppointed]:
    """The street admin of the community's street makes a person its admin: one of the street's
    people (`user_id`), or the holder of `phone`, registered when it has no account."""
    person = None
    if data.user_id is None:
        person = appointing.NewPerson(
            phone=data.phone or "", display_name=data.display_name or "", password=data.password or ""
        )
    user, appointed = await appointing.appoint(
        db_session,
        actor,
        community_id,
        user_id=data.user_id,
        person=person,
        address=client_address(request),
    )
    return Response(
        AdminAppointed(user_id=user.id, appointed=appointed), status_code=201 if appointed else 200
    )


@post(
    "/api/v1/communities/{community_id:int}/residents/{user_id:int}/moved-away",
    tags=["community admin"],
    status_code=200,
)
async def api_move_away(
    community_id: int, user_id: int, actor: Actor, db_session: AsyncSession, request: Request
) -> MovedAwayOut:
    """The community's admin marks a resident who moved away: off the residents list and every
    role, their points and history kept. 409 `conflict` while they have a store order waiting
    for pickup or a service voucher not used (cancel those first); a repeat changes nothing."""
    changed = await moving.move_away(db_session, actor, community_id, user_id, client_address(request))
    return MovedAwayOut(user_id=user_id, moved_away=True, changed=changed)


@post(
    "/api/v1/communities/{community_id:int}/residents/{user_id:int}/moved-back",
    tags=["community admin"],
    status_code=200,
)
async def api_move_back(
    community_id: int, user_id: int, actor: Actor, db_session: AsyncSession, request: Request
) -> MovedAwayOut:
    """The community's admin makes a resident who had moved away a resident again, as before."""
    changed = await moving.move_back(db_session, actor, community_id, user_id, client_address(request))
    return MovedAwayOut(user_id=user_id, moved_away=False, changed=changed)


route_handlers = [
    api_community_admins,
    api_appoint_admin,
    api_token,
    api_register,
    api_me,
    api_me_card,
    api_me_card_svg,
    api_add_resident,
    api_get_resident,
    api_set_roles,
    api_move_away,
    api_move_back,
]
