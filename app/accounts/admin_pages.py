"""The admin's pages: residents for admins and grid workers, printed cards; the registry other
domains fill for the resident pages. The home page and the street admin's pages are
app.accounts.pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import cards, honours, member_cards, moving, people, services
from app.accounts.models import COMMUNITY_ROLES, MemberCard, Membership, User
from app.core import clock, form_keys, paging, qr
from app.core.authz import Actor
from app.core.errors import DomainError
from app.core.i18n import gettext_for, lazy
from app.core.web import (
    client_address,
    error_message,
    form_data,
    optional_int,
    render,
    reopen_form,
    reopen_page,
)
from app.places.models import Building, Community, Compound
from app.places.services import building_in, places_of

PAGE_SIZE = 50


@dataclass
class ResidentPart:
    """A domain's section of a resident's page for staff (e.g. the ledger's balance and
    statement): a partial template and what it shows."""

    template: str
    context: dict[str, Any]


ResidentPartHook = Callable[[AsyncSession, Actor, int, int], Awaitable["ResidentPart | None"]]
_RESIDENT_PARTS: list[ResidentPartHook] = []


def resident_part(hook: ResidentPartHook) -> ResidentPartHook:
    """Registers `hook(session, actor, community_id, user_id)`, called when a resident's page is
    shown to someone who may see it; it returns a part, or None to show nothing. Domains above
    accounts register at import, so that this page names none of them."""
    _RESIDENT_PARTS.append(hook)
    return hook


async def resident_parts(
    session: AsyncSession, actor: Actor, community_id: int, user_id: int
) -> list[ResidentPart]:
    parts = [await hook(session, actor, community_id, user_id) for hook in _RESIDENT_PARTS]
    return [part for part in parts if part is not None]


async def _resident_rows(
    session: AsyncSession,
    community_id: int,
    q: str,
    compound_id: int | None,
    building_id: int | None,
    page: int | None,
    no_phone: bool = False,
    moved_away: bool = False,
) -> tuple[list[tuple[User, Membership]], int, paging.Window]:
    """One page of residents by name (a page past the last reads the last: app.core.paging),
    how many match in all and which page it is; only those without a phone number with
    `no_phone` (the card holders a grid worker calls on: a hundred among 5,000 members). The
    page is read from the members' index by name (migration 0049), the count from an index too:
    a large community's page reads its 50 rows, not every member."""
    # Those who moved away (app.accounts.moving) only when asked for, and then only they.
    found = [
        Membership.community_id == community_id,
        Membership.moved_away_at.is_not(None) if moved_away else Membership.moved_away_at.is_(None),
    ]
    if compound_id:
        found.append(Membership.compound_id == compound_id)
    if building_id:
        found.append(Membership.building_id == building_id)
    if no_phone:
        found.append(Membership.user_id.in_(select(User.id).where(User.phone.is_(None))))
    counted = select(func.count()).select_from(Membership).where(*found)
    if q:
        counted = counted.where(people.found_by_name_or_phone(community_id, q))
    total = int(await session.scalar(counted) or 0)
    at = paging.window(total, page, PAGE_SIZE)
    stmt = select(User, Membership).join(User, User.id == Membership.user_id).where(*found)
    if q:
        stmt = stmt.where(people.found_by_name_or_phone(community_id, q))
    stmt = stmt.order_by(*people.BY_NAME).offset(at.offset).limit(PAGE_SIZE)
    return [(row[0], row[1]) for row in await session.execute(stmt)], total, at


@get("/admin/c/{community_id:int}/residents", include_in_schema=False)
async def residents_page(
    request: Request,
    community_id: int,
    actor: Actor,
    db_session: AsyncSession,
    q: str = "",
    compound: str = "",
    building: str = "",
    page: str = "",
    no_phone: str = "",
    moved: str = "",
) -> Template:
    community = await services.community_for(db_session, actor, community_id, "admin", "staff", "grid_worker")
    without_phone = no_phone == "1"
    moved_away = moved == "1"
    rows, total, at = await _resident_rows(
        db_session,
        community_id,
        q.strip(),
        optional_int(compound),
        optional_int(building),
        optional_int(page),
        no_phone=without_phone,
        moved_away=moved_away,
    )
    places = await places_of(db_session, community_id)
    compound_names = {c.id: c.name for c, _b in places}
    building_names = {b.id: b.name for _c, bs in places for b in bs}
    return render(
        request,
        "accounts/residents.html",
        community=community,
        rows=rows,
        total=total,
        pages=at.pages,
        page=at.number,
        # The list's filters, kept by its pages' links (templates/_pager.html).
        kept={
            k: v
            for k, v in (
                ("q", q),
                ("compound", compound),
                ("building", building),
                ("no_phone", no_phone),
                ("moved", moved),
            )
            if v
        },
        q=q,
        compound=compound,
        building=building,
        no_phone=without_phone,
        moved_away=moved_away,
        places=places,
        compound_names=compound_names,
        building_names=building_names,
        can_enrol=actor.has(community_id, "admin", "staff"),
    )


async def _new_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    form: dict[str, str],
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    community = await services.community_for(db_session, actor, community_id, "admin", "staff")
    return render(
        request,
        "accounts/resident_new.html",
        status_code=status_code,
        community=community,
        places=await places_of(db_session, community_id),
        form=form,
        form_key=form_keys.new(),
        error=error,
        roles=COMMUNITY_ROLES,
        is_admin=actor.has(community_id, "admin"),
    )


@get("/admin/c/{community_id:int}/residents/new", include_in_schema=False)
async def resident_new_page(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    return await _new_page(request, db_session, actor, community_id, {})


def _resident_input(form: dict[str, str], roles: list[str] | None) -> services.ResidentInput:
    return services.ResidentInput(
        display_name=form.get("display_name", ""),
        phone=form.get("phone") or None,
        password=form.get("password") or None,
        roles=roles,
        compound_id=optional_int(form.get("compound_id")),
        building_id=optional_int(form.get("building_id")),
        room=form.get("room", ""),
    )


@post("/admin/c/{community_id:int}/residents", include_in_schema=False)
async def resident_create(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    raw = await request.form()
    form = {k: str(v) for k, v in raw.items() if isinstance(v, str)}
    roles = [str(r) for r in raw.getall("roles")] if "roles" in raw else ["resident"]
    try:
        user = await services.add_resident(
            db_session,
            actor,
            community_id,
            _resident_input(form, roles),
            client_address(request),
            form_key=form.get("key"),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        form.pop("password", None)
        return await _new_page(
            request, db_session, actor, community_id, form, error_message(request, exc), exc.status_code
        )
    joined = not await services.belongs_here_alone(db_session, community_id, user.id)
    return Redirect(
        f"/admin/c/{community_id}/residents/{user.id}?added={'member' if joined else '1'}", status_code=303
    )


async def _detail(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    user_id: int,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
    typed: dict[str, str] | None = None,
) -> Template:
    user, membership = await services.membership_for(
        db_session, actor, community_id, user_id, "admin", "staff", "grid_worker"
    )
    community = await db_session.get(Community, community_id)
    printed = await services.active_card(db_session, user_id, "printed")
    alone = await services.belongs_here_alone(db_session, community_id, user_id)
    printable = alone and member_cards.printed_card_allowed(user, membership)
    return render(
        request,
        "accounts/resident.html",
        status_code=status_code,
        community=community,
        user=user,
        membership=membership,
        places=await places_of(db_session, community_id),
        roles=COMMUNITY_ROLES,
        is_admin=actor.has(community_id, "admin"),
        has_printed=printed is not None,
        manages_account=alone,
        may_print=printable,
        parts=await resident_parts(db_session, actor, community_id, user_id),
        honours=await honours.of_household(db_session, membership),
        honour_name=honours.NAME,
        this_year=clock.today(community.time_zone if community else None).year,
        can_enrol=actor.has(community_id, "admin", "staff"),
        current_user_id=actor.user_id,
        error=error,
        notice=notice,
        typed=typed,  # the refused details as they were typed, shown instead of the stored ones
    )


@get("/admin/c/{community_id:int}/residents/{user_id:int}", include_in_schema=False)
async def resident_page(
    request: Request,
    community_id: int,
    user_id: int,
    actor: Actor,
    db_session: AsyncSession,
    added: str = "",
    saved: str = "",
) -> Template:
    notice = None
    if added == "member":
        notice = gettext_for(request)(
            lazy(
                "This phone number already had an account: the person was added as a member. "
                "Their name, password and cards stay theirs to manage."
            )
        )
    elif added:
        notice = gettext_for(request)(lazy("The resident was added."))
    elif saved == "moved_away":
        notice = gettext_for(request)(lazy("Marked as moved away."))
    elif saved == "moved_back":
        notice = gettext_for(request)(lazy("Welcome back: they are a resident here again."))
    elif saved:
        notice = gettext_for(request)(lazy("The changes were saved."))
    return await _detail(request, db_session, actor, community_id, user_id, notice=notice)


@post("/admin/c/{community_id:int}/residents/{user_id:int}", include_in_schema=False)
async def resident_update(
    request: Request, community_id: int, user_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    raw = await request.form()
    form = {k: str(v) for k, v in raw.items() if isinstance(v, str)}
    action = form.get("action", "")
    address = client_address(request)
    try:
        if action == "roles":
            await services.set_roles(
                db_session,
                actor,
                community_id,
                user_id,
                [str(r) for r in raw.getall("roles")] if "roles" in raw else [],
                address,
            )
        elif action == "password":
            await services.reset_password(
                db_session, actor, community_id, user_id, form.get("password", ""), address
            )
        elif action == "revoke_cards":
            if form.get("confirm") != "1":
                raise DomainError("validation_error", 422, lazy("Tick the box to confirm."))
            await member_cards.revoke_cards(db_session, actor, community_id, user_id, address)
        else:
            await services.update_resident(
                db_session, actor, community_id, user_id, _resident_input(form, None), address
            )
    except DomainError as exc:
        typed = form if action not in ("roles", "password", "revoke_cards") else None
        return await reopen_page(
            request,
            db_session,
            exc,
            partial(_detail, request, db_session, actor, community_id, user_id),
            typed=typed,
        )
    return Redirect(
        f"/admin/c/{community_id}/residents/{user_id}?saved={action or 'details'}", status_code=303
    )


@post("/admin/c/{community_id:int}/residents/{user_id:int}/honours", include_in_schema=False)
async def honour_household(
    request: Request, community_id: int, user_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    """邻里一家亲 for the resident's household (app.accounts.honours)."""
    form = await form_data(request)
    try:
        await honours.award(
            db_session,
            actor,
            community_id,
            user_id,
            optional_int(form.get("year")),
            form.get("note", ""),
            client_address(request),
        )
    except DomainError as exc:
        return await reopen_page(
            request, db_session, exc, partial(_detail, request, db_session, actor, community_id, user_id)
        )
    return Redirect(f"/admin/c/{community_id}/residents/{user_id}?saved=honour", status_code=303)


@post(
    "/admin/c/{community_id:int}/residents/{user_id:int}/honours/{honour_id:int}/revoke",
    include_in_schema=False,
)
async def revoke_honour(
    request: Request, community_id: int, user_id: int, honour_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        if form.get("confirm") != "1":
            raise DomainError("validation_error", 422, lazy("Tick the box to confirm."))
        await honours.revoke(db_session, actor, community_id, honour_id, client_address(request))
    except DomainError as exc:
        return await reopen_page(
            request, db_session, exc, partial(_detail, request, db_session, actor, community_id, user_id)
        )
    return Redirect(f"/admin/c/{community_id}/residents/{user_id}?saved=honour", status_code=303)


@dataclass
class PrintedCard:
    name: str
    place: str
    code: str
    image: str
    typed: str  # printed under the QR, for the scanner's typed field


def _printed(user: User, place: str, card: MemberCard) -> PrintedCard:
    code = cards.printed_code(card.secret)
    return PrintedCard(user.display_name, place, code, qr.data_uri(code), cards.typed_code(card.public_id))


@post("/admin/c/{community_id:int}/residents/{user_id:int}/card", include_in_schema=False)
async def resident_card(
    request: Request, community_id: int, user_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    """A printable card (POST: issuing a card is a state change; re-issue revokes the old one)."""
    form = await form_data(request)
    reissue = form.get("reissue") == "1"
    try:
        if reissue and form.get("confirm") != "1":  # the card printed before stops working
            raise DomainError("validation_error", 422, lazy("Tick the box to confirm."))
        card = await member_cards.printed_card(
            db_session,
            actor,
            community_id,
            user_id,
            reissue=reissue,
            address=client_address(request),
        )
    except DomainError as exc:
        return await reopen_page(
            request, db_session, exc, partial(_detail, request, db_session, actor, community_id, user_id)
        )
    user, membership = await services.membership_for(
        db_session, actor, community_id, user_id, "admin", "staff", "grid_worker"
    )
    community = await db_session.get(Community, community_id)
    assert community is not None
    printed = _printed(user, await _place_label(db_session, membership), card)
    return render(
        request, "accounts/cards_print.html", community=community, cards=[printed], title=user.display_name
    )


async def _place_label(session: AsyncSession, membership: Membership) -> str:
    parts = []
    if membership.compound_id:
        compound = await session.get(Compound, membership.compound_id)
        parts.append(compound.name if compound else "")
    if membership.building_id:
        building = await session.get(Building, membership.building_id)
        parts.append(building.name if building else "")
    if membership.room:
        parts.append(membership.room)
    return " ".join(p for p in parts if p)


@post("/admin/c/{community_id:int}/buildings/{building_id:int}/cards", include_in_schema=False)
async def building_cards(
    request: Request, community_id: int, building_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    """An A4 sheet of printed cards for the residents of a building who may hold one: those who
    do not log in with a phone, never staff or admins (existing cards are reused)."""
    await services.community_for(db_session, actor, community_id, "admin", "staff", "grid_worker")
    building = await building_in(db_session, community_id, building_id)
    held, left_out = await member_cards.printed_cards_for_building(
        db_session, actor, community_id, building_id, client_address(request)
    )
    sheet = [
        _printed(user, await _place_label(db_session, membership), card) for user, membership, card in held
    ]
    community = await db_session.get(Community, community_id)
    return render(
        request,
        "accounts/cards_print.html",
        community=community,
        cards=sheet,
        title=building.name,
        left_out=left_out,
    )


async def card_sheet(
    session: AsyncSession, actor: Actor, community_id: int, user_ids: list[int], address: str | None = None
) -> tuple[list[PrintedCard], int]:
    """The printed cards of these members (existing cards are reused), for a sheet to print, and
    how many were left out: those who may not hold one (they log in with a phone, are staff or
    admins) or whose account also belongs elsewhere."""
    await services.community_for(session, actor, community_id, "admin", "staff", "grid_worker")
    sheet: list[PrintedCard] = []
    for user_id in user_ids:
        found = await session.execute(
            select(User, Membership)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.community_id == community_id, User.id == user_id)
        )
        row = found.first()
        if row is None:
            continue
        user, membership = row
        if member_cards.printed_card_allowed(user, membership) and await services.belongs_here_alone(
            session, community_id, user.id
        ):
            card = await member_cards.printed_card(session, actor, community_id, user.id, address=address)
            sheet.append(_printed(user, await _place_label(session, membership), card))
    return sheet, len(user_ids) - len(sheet)


# ---------------------------------------------------------------- moved away (app.accounts.moving)


async def _moving_confirmation(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    user_id: int,
    error: str | None = None,
    status_code: int = 200,
) -> Template:
    user, membership = await services.membership_for(db_session, actor, community_id, user_id, "admin")
    community = await services.community_for(db_session, actor, community_id, "admin")
    return render(
        request,
        "accounts/moved_away.html",
        status_code=status_code,
        community=community,
        user=user,
        membership=membership,
        open=await moving.open_matters(db_session, community_id, user_id),
        error=error,
    )


@get("/admin/c/{community_id:int}/residents/{user_id:int}/moved-away", include_in_schema=False)
async def moved_away_page(
    request: Request, community_id: int, user_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    return await _moving_confirmation(request, db_session, actor, community_id, user_id)


@post("/admin/c/{community_id:int}/residents/{user_id:int}/moved-away", include_in_schema=False)
async def move_away(
    request: Request, community_id: int, user_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        if form.get("confirm") != "1":
            raise DomainError("validation_error", 422, moving.TICK_TO_CONFIRM)
        await moving.move_away(db_session, actor, community_id, user_id, client_address(request))
    except DomainError as exc:
        return await reopen_page(
            request,
            db_session,
            exc,
            partial(_moving_confirmation, request, db_session, actor, community_id, user_id),
        )
    return Redirect(f"/admin/c/{community_id}/residents/{user_id}?saved=moved_away", status_code=303)


@post("/admin/c/{community_id:int}/residents/{user_id:int}/moved-back", include_in_schema=False)
async def move_back(
    request: Request, community_id: int, user_id: int, actor: Actor, db_session: AsyncSession
) -> Redirect:
    await moving.move_back(db_session, actor, community_id, user_id, client_address(request))
    return Redirect(f"/admin/c/{community_id}/residents/{user_id}?saved=moved_back", status_code=303)


route_handlers = [
    residents_page,
    resident_new_page,
    resident_create,
    resident_page,
    resident_update,
    resident_card,
    building_cards,
    honour_household,
    revoke_honour,
    moved_away_page,
    move_away,
    move_back,
]
