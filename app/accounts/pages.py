"""Accounts' pages for everyone: the home page per role (each domain's share through
app.core.homes), login, logout, registration, my card; the street admin's pages (the street's
communities and their admins, app.accounts.appointing). The admin's pages (residents, printed
cards) are app.accounts.admin_pages, the JSON API app.accounts.api."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import appointing, logins, member_cards, own, services
from app.core import homes
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden
from app.core.i18n import gettext_for, lazy
from app.core.settings import Settings
from app.core.web import (
    client_address,
    error_message,
    form_data,
    optional_int,
    render,
    reopen_form,
    safe_next,
    session_cookie_name,
)
from app.places.models import Community, Street
from app.places.services import create_community as create_community_in

# ---------------------------------------------------------------- the home page


@dataclass
class CommunityHome:
    community: Community
    roles: list[str]
    part: homes.HomePart


@dataclass
class StreetHome:
    street: Street
    communities: list[tuple[Community, int]]  # (community, members)
    # Its communities that have no admin yet: nobody manages them until the street admin appoints one.
    without_admin: set[int] = field(default_factory=set)


@homes.part
async def _people_home(session: AsyncSession, actor: Actor, community: Community) -> homes.HomePart:
    """The accounts' share of the home page: residents and places for those who care for them."""
    community_id = community.id
    part = homes.HomePart()
    residents = f"/admin/c/{community_id}/residents"
    if actor.has(community_id, "grid_worker"):
        # A grid worker's daily work is the residents: a tile on the first screen, not a line of "More".
        part.tiles.append(homes.Tile(residents, lazy("Residents"), "people", 1))
    elif actor.has(community_id, "admin", "staff"):
        part.links.append((residents, lazy("Residents")))
    if actor.has(community_id, "admin", "staff", "grid_worker"):
        part.links.append((f"/admin/c/{community_id}/places", lazy("Compounds and buildings")))
    return part


async def home_cards(session: AsyncSession, actor: Actor) -> dict[str, object]:
    """Each community the person belongs to with every domain's share of its home
    (app.core.homes), and the streets they oversee with their communities."""
    found = await session.scalars(select(Community).where(Community.id.in_(sorted(actor.roles))))
    communities = {c.id: c for c in found.all()}
    mine = [
        CommunityHome(
            communities[cid], sorted(actor.roles[cid]), await homes.gather(session, actor, communities[cid])
        )
        for cid in sorted(actor.roles)
    ]
    streets = (await session.scalars(select(Street).where(Street.id.in_(sorted(actor.street_ids))))).all()
    overseen = []
    for street in streets:
        of_street = await services.communities_of_street(session, street.id)
        admins = await appointing.admins_of(session, [c.id for c, _members in of_street])
        overseen.append(StreetHome(street, of_street, {cid for cid, names in admins.items() if not names}))
    return {"communities": mine, "streets": overseen, "account": await homes.gather_account(session, actor)}


@get("/", include_in_schema=False)
async def home(request: Request, maybe_actor: Actor | None, db_session: AsyncSession) -> Template:
    if maybe_actor is None:
        return render(
            request,
            "welcome.html",
            communities=(
                await db_session.execute(
                    select(Community.id, Community.name, Street.name.label("street"))
                    .join(Street, Street.id == Community.street_id)
                    .order_by(Street.name, Community.name)
                )
            ).all(),
            public_pages=homes.public_pages,
        )
    return render(request, "home.html", cards=await home_cards(db_session, maybe_actor))


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
        user = await logins.login(request, db_session, settings, phone, password)
    except DomainError as exc:
        _ = gettext_for(request)
        return render(
            request,
            "accounts/login.html",
            status_code=exc.status_code,
            next=next_url,
            error=exc.sentence(_),
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
        user, _m = await logins.register(request, db_session, settings, **values)
    except DomainError as exc:
        await db_session.rollback()
        _ = gettext_for(request)
        message = exc.sentence(_)
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


# ---------------------------------------------------------------- pages: my password

PASSWORD_CHANGED = lazy("Your password was changed. Everywhere else you were logged out.")


@get("/me/password", include_in_schema=False)
async def password_page(request: Request, actor: Actor, done: str = "") -> Template:
    notice = gettext_for(request)(PASSWORD_CHANGED) if done else None
    return render(request, "accounts/password.html", error=None, notice=notice)


@post("/me/password", include_in_schema=False)
async def password_submit(
    request: Request, actor: Actor, db_session: AsyncSession, settings: Settings
) -> Response:
    form = await form_data(request)
    try:
        token = await logins.change_password(
            request, db_session, settings, actor.user_id, form.get("current", ""), form.get("password", "")
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return render(
            request,
            "accounts/password.html",
            status_code=exc.status_code,
            error=error_message(request, exc),
            notice=None,
        )
    response = Redirect("/me/password?done=1", status_code=303)
    _set_session_cookie(response, settings, token)
    return response


# ---------------------------------------------------------------- pages: my name

NAME_CHANGED = lazy("Your name was changed.")


def _name_page(request: Request, actor: Actor, **context: Any) -> Template:
    return render(request, "accounts/name.html", name=actor.display_name, **context)


@get("/me/name", include_in_schema=False)
async def name_page(request: Request, actor: Actor, done: str = "") -> Template:
    notice = gettext_for(request)(NAME_CHANGED) if done else None
    return _name_page(request, actor, error=None, notice=notice)


@post("/me/name", include_in_schema=False)
async def name_submit(request: Request, actor: Actor, db_session: AsyncSession) -> Response:
    form = await form_data(request)
    try:
        await own.rename_self(
            db_session, actor.user_id, form.get("display_name", ""), client_address(request)
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return _name_page(
            request, actor, status_code=exc.status_code, error=error_message(request, exc), notice=None
        )
    return Redirect("/me/name?done=1", status_code=303)


# ---------------------------------------------------------------- pages: my card


@get("/me/card", include_in_schema=False)
async def my_card_page(request: Request, actor: Actor, db_session: AsyncSession) -> Template:
    # A member code is shown at a community's events and counter; someone with no community (a
    # street office's admin, a partner unit's member) has nowhere to show it.
    if not actor.roles:
        raise Forbidden(
            lazy("A member code is for members of a community. You are not a member of any community.")
        )
    code, expires = await member_cards.phone_card_code(db_session, actor.user_id)
    return render(request, "accounts/card.html", code=code, expires_at=expires.isoformat())


# ---------------------------------------------------------------- the street admin's communities


async def _street_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    street_id: int,
    *,
    status_code: int = 200,
    error: str | None = None,
    typed: str = "",
) -> Template:
    street = await appointing.street_of(db_session, actor, street_id)
    communities = await services.communities_of_street(db_session, street_id)
    return render(
        request,
        "places/street.html",
        status_code=status_code,
        street=street,
        communities=communities,
        admins=await appointing.admins_of(db_session, [c.id for c, _members in communities]),
        error=error,
        typed=typed,
    )


@get("/street/{street_id:int}", include_in_schema=False)
async def street_page(request: Request, street_id: int, actor: Actor, db_session: AsyncSession) -> Template:
    return await _street_page(request, db_session, actor, street_id)


@post("/street/{street_id:int}/communities", include_in_schema=False)
async def create_community(
    request: Request, street_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        community = await create_community_in(db_session, actor, street_id, form.get("name", ""))
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _street_page(
            request,
            db_session,
            actor,
            street_id,
            status_code=exc.status_code,
            error=error_message(request, exc),
            typed=form.get("name", "")[:200],  # the name refused comes back to be corrected
        )
    # A new community has no admin yet: its admins' page is where the street admin appoints one.
    return Redirect(f"/street/{street_id}/c/{community.id}/admins?new=1", status_code=303)


async def _admins_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    street_id: int,
    community_id: int,
    *,
    who: str = "",
    page: int = 1,
    done_id: int | None = None,
    status_code: int = 200,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Template:
    street = await appointing.street_of(db_session, actor, street_id)
    community = await appointing.street_community(db_session, actor, community_id, street_id)
    who = who.strip()[:50]
    admins = (await appointing.admins_of(db_session, [community_id]))[community_id]
    return render(
        request,
        "accounts/community_admins.html",
        status_code=status_code,
        street=street,
        community=community,
        admins=admins,
        who=who,
        found=await appointing.street_people(db_session, actor, street_id, community_id, who, page),
        new=request.query_params.get("new") == "1",
        # Named only when they are among its admins: an id typed in the address names nobody else.
        done=next((a for a in admins if a.user_id == done_id), None),
        already=request.query_params.get("already") == "1",
        error=error,
        form=form or {},
    )


@get("/street/{street_id:int}/c/{community_id:int}/admins", include_in_schema=False)
async def community_admins_page(
    request: Request,
    street_id: int,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    who: str = "",
    page: str = "",
    appointed: str = "",
) -> Template:
    return await _admins_page(
        request,
        db_session,
        actor,
        street_id,
        community_id,
        who=who,
        page=optional_int(page) or 1,
        done_id=optional_int(appointed),
    )


@post("/street/{street_id:int}/c/{community_id:int}/admins", include_in_schema=False)
async def appoint_admin(
    request: Request, street_id: int, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    user_id = optional_int(form.get("user_id"))
    person = None
    if user_id is None:
        person = appointing.NewPerson(
            phone=form.get("phone", ""),
            display_name=form.get("display_name", ""),
            password=form.get("password", ""),
        )
    try:
        await appointing.street_community(db_session, actor, community_id, street_id)
        user, appointed = await appointing.appoint(
            db_session,
            actor,
            community_id,
            user_id=user_id,
            person=person,
            address=client_address(request),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _admins_page(
            request,
            db_session,
            actor,
            street_id,
            community_id,
            who=form.get("who", ""),
            status_code=exc.status_code,
            error=error_message(request, exc),
            # What was typed comes back to be corrected; the password is typed again.
            form={"phone": form.get("phone", "")[:30], "display_name": form.get("display_name", "")[:50]},
        )
    already = "" if appointed else "&already=1"
    return Redirect(
        f"/street/{street_id}/c/{community_id}/admins?appointed={user.id}{already}", status_code=303
    )


route_handlers = [
    home,
    login_page,
    login_submit,
    logout,
    register_page,
    register_submit,
    password_page,
    password_submit,
    name_page,
    name_submit,
    my_card_page,
    street_page,
    create_community,
    community_admins_page,
    appoint_admin,
]
