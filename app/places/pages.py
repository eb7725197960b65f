"""Admin pages for compounds and buildings."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.authz import Actor
from app.core.errors import DomainError
from app.core.web import error_message, form_data, optional_int, render, reopen_form
from app.places import services
from app.places.models import Street


async def _places_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    community_id: int,
    error: str | None = None,
    status_code: int = 200,
    refused: str = "",
    form: dict[str, str] | None = None,
) -> Template:
    """The community's compounds and buildings: its admins edit them, its staff and grid workers
    open each building's residents, and the street admin above it drills down read-only."""
    community = await services.community_for(
        db_session, actor, community_id, "admin", "staff", "grid_worker", "street_admin"
    )
    street = (
        await db_session.get(Street, community.street_id) if community.street_id in actor.street_ids else None
    )
    return render(
        request,
        "places/places.html",
        status_code=status_code,
        community=community,
        places=await services.places_of(db_session, community_id),
        error=error,
        can_edit=actor.has(community_id, "admin"),
        zones=clock.COMMON_ZONES,
        zone_labels=clock.ZONE_LABELS,
        now_text=clock.text(clock.now(), community.time_zone),
        can_care=actor.has(community_id, "admin", "staff", "grid_worker"),
        street_of=street.name if street is not None else None,
        # A refused form comes back open with what was typed: `refused` names which of the
        # page's forms it was ("compound-new", "compound-<id>", "building-<compound id>").
        refused=refused,
        form=form or {},
    )


@get("/admin/c/{community_id:int}/places", include_in_schema=False)
async def places_page(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    return await _places_page(request, db_session, actor, community_id)


@post("/admin/c/{community_id:int}/compounds", include_in_schema=False)
async def save_compound(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        await services.community_for(db_session, actor, community_id, "admin")
        await services.save_compound(
            db_session,
            actor,
            community_id,
            name=form.get("name", ""),
            address=form.get("address", ""),
            households=form.get("households"),
            compound_id=optional_int(form.get("compound_id")),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        which = f"compound-{form['compound_id']}" if form.get("compound_id") else "compound-new"
        return await _places_page(
            request, db_session, actor, community_id, error_message(request, exc), 422, which, form
        )
    return Redirect(f"/admin/c/{community_id}/places", status_code=303)


@post("/admin/c/{community_id:int}/buildings", include_in_schema=False)
async def save_building(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        await services.community_for(db_session, actor, community_id, "admin")
        await services.save_building(
            db_session,
            actor,
            community_id,
            compound_id=optional_int(form.get("compound_id")) or 0,
            name=form.get("name", ""),
            leader_name=form.get("leader_name", ""),
            building_id=optional_int(form.get("building_id")),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        which = f"building-{form.get('compound_id', '')}"
        return await _places_page(
            request, db_session, actor, community_id, error_message(request, exc), 422, which, form
        )
    return Redirect(f"/admin/c/{community_id}/places", status_code=303)


@post("/admin/c/{community_id:int}/time-zone", include_in_schema=False)
async def save_time_zone(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        await services.community_for(db_session, actor, community_id, "admin")
        await services.set_time_zone(db_session, actor, community_id, form.get("time_zone", ""))
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _places_page(request, db_session, actor, community_id, error_message(request, exc), 422)
    return Redirect(f"/admin/c/{community_id}/places", status_code=303)


route_handlers = [places_page, save_compound, save_building, save_time_zone]
