"""Accounts: JSON API (API.md) and the pages for login, registration, cards and residents."""

from __future__ import annotations

from litestar import Request, Response, get, post
from litestar.params import JSONBody
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import services, views
from app.accounts.models import Membership, User
from app.accounts.schemas import (
    CardResponse,
    MembershipOut,
    MeResponse,
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
from app.core.errors import MESSAGES, DomainError, Forbidden
from app.core.i18n import gettext_for, lazy
from app.core.settings import Settings
from app.core.web import client_address, own_session, render, safe_next, session_cookie_name
from app.places.models import Community

# ---------------------------------------------------------------- API


@post("/api/v1/auth/token", tags=["auth"], status_code=200)
async def api_token(
    data: JSONBody[TokenRequest], request: Request, db_session: AsyncSession, settings: Settings
) -> TokenResponse:
    user = await _login(request, db_session, settings, data.phone, data.password)
    token = await services.create_auth_session(
        db_session, settings, user.id, "token", client_address(request)
    )
    return TokenResponse(access_token=token, user=UserBrief(id=user.id, display_name=user.display_name))


async def _login(
    request: Request, db_session: AsyncSession, settings: Settings, phone: str, password: str
) -> User:
    """The attempt is counted (and committed) before the password is checked: a failure stays
    counted when the request's transaction is rolled back."""
    address = client_address(request)
    async with own_session(request) as counters:
        try:
            await services.claim_login(counters, settings, phone, address)
        except DomainError:
            await counters.commit()
            raise
    return await services.authenticate(db_session, phone=phone, password=password, address=address)


async def _register(
    request: Request, db_session: AsyncSession, settings: Settings, **values: str
) -> tuple[User, Membership]:
    """Wrong join codes are counted per client address; other refusals give their place back."""
    key = services.join_key(client_address(request))
    async with own_session(request) as counters:
        allowed = await services.claim_attempt(counters, settings, key, services.JOIN_CODE_LIMIT)
    if not allowed:
        raise DomainError("rate_limited", 429)
    try:
        user, membership = await services.register(db_session, **values)
    except services.UnknownJoinCode:
        raise
    except Exception:
        async with own_session(request) as counters:
            await services.release_attempt(counters, key)
        raise
    await services.release_attempt(db_session, key)
    return user, membership


@post("/api/v1/auth/register", tags=["auth"], status_code=201)
async def api_register(
    data: JSONBody[RegisterRequest], request: Request, db_session: AsyncSession, settings: Settings
) -> RegisterResponse:
    user, membership = await _register(
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
    code, expires = await services.phone_card_code(db_session, actor.user_id)
    return CardResponse(code=code, expires_at=expires.isoformat())


@get("/api/v1/me/card.svg", tags=["me"], media_type="image/svg+xml")
async def api_me_card_svg(actor: Actor, db_session: AsyncSession) -> Response:
    code, _exp = await services.phone_card_code(db_session, actor.user_id)
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


# ---------------------------------------------------------------- pages: login, logout, register


def _set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        session_cookie_name(settings),
        token,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
        max_age=settings.session_absolute_hours * 3600,
    )


@get("/login", include_in_schema=False)
async def login_page(request: Request, next: str = "/") -> Template:  # noqa: A002
    return render(request, "accounts/login.html", next=next, error=None, phone="")


@post("/login", include_in_schema=False)
async def login_submit(request: Request, db_session: AsyncSession, settings: Settings) -> Response:
    form = await request.form()
    phone, password = str(form.get("phone", "")), str(form.get("password", ""))
    next_url = safe_next(str(form.get("next", "/")))
    try:
        user = await _login(request, db_session, settings, phone, password)
    except DomainError as exc:
        _ = gettext_for(request)
        return render(
            request,
            "accounts/login.html",
            status_code=exc.status_code,
            next=next_url,
            error=_(MESSAGES[exc.code]),
            phone=phone,
        )
    planted = request.cookies.get(session_cookie_name(settings))
    token = await services.create_auth_session(
        db_session, settings, user.id, "cookie", client_address(request), replaces=planted
    )
    response = Redirect(next_url, status_code=303)
    _set_session_cookie(response, settings, token)
    return response


@post("/logout", include_in_schema=False)
async def logout(request: Request, db_session: AsyncSession, settings: Settings) -> Response:
    token = request.cookies.get(session_cookie_name(settings))
    if token:
        await services.end_auth_session(db_session, token)
        await db_session.commit()
    response = Redirect("/", status_code=303)
    response.delete_cookie(session_cookie_name(settings), path="/")
    return response


@get("/register", include_in_schema=False)
async def register_page(request: Request, code: str = "") -> Template:
    return render(request, "accounts/register.html", form={"join_code": code}, error=None)


@post("/register", include_in_schema=False)
async def register_submit(request: Request, db_session: AsyncSession, settings: Settings) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("phone", "password", "display_name", "join_code")}
    try:
        user, _m = await _register(request, db_session, settings, **values)
    except DomainError as exc:
        await db_session.rollback()
        _ = gettext_for(request)
        message = _(exc.detail) if exc.detail else _(MESSAGES[exc.code])
        values.pop("password")
        return render(
            request, "accounts/register.html", status_code=exc.status_code, form=values, error=message
        )
    token = await services.create_auth_session(
        db_session,
        settings,
        user.id,
        "cookie",
        client_address(request),
        replaces=request.cookies.get(session_cookie_name(settings)),
    )
    response = Redirect("/", status_code=303)
    _set_session_cookie(response, settings, token)
    return response


# ---------------------------------------------------------------- pages: my card


@get("/me/card", include_in_schema=False)
async def my_card_page(request: Request, actor: Actor, db_session: AsyncSession) -> Template:
    # A member code is shown at a community's events and counter; someone with no community (a
    # street office's admin, a partner unit's member) has nowhere to show it.
    if not actor.roles:
        raise Forbidden(
            lazy("A member code is for members of a community. You are not a member of any community.")
        )
    code, expires = await services.phone_card_code(db_session, actor.user_id)
    return render(request, "accounts/card.html", code=code, expires_at=expires.isoformat())


route_handlers = [
    api_token,
    api_register,
    api_me,
    api_me_card,
    api_me_card_svg,
    api_add_resident,
    api_get_resident,
    api_set_roles,
    login_page,
    login_submit,
    logout,
    register_page,
    register_submit,
    my_card_page,
    *views.route_handlers,
]
