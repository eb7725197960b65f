"""The admin's partner pages: the community's organisations and this year's agreements, and the
in-service registrations waiting for confirmation."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid
from app.core.i18n import lazy
from app.core.web import client_address, error_message, form_data, optional_int, reopen_form
from app.partners import agreements, forms, registrations, services
from app.places.services import community_for, time_zone_of

# ---------------------------------------------------------------- the admin's organisations


async def _admin_page(
    request: Request, db_session: AsyncSession, actor: Actor, community_id: int, **extra: Any
) -> Template:
    community = await community_for(db_session, actor, community_id, "admin")
    tz = await time_zone_of(db_session, community_id)
    organisations = await services.community_organisations(db_session, actor, community_id)
    return forms.page(
        request,
        "partners/admin.html",
        status_code=extra.pop("status_code", 200),
        community=community,
        organisations=organisations,
        partners=[o for o in organisations if "partner" in o.kinds],
        agreements=await agreements.agreements_of_community(db_session, actor, community_id),
        this_year=clock.today(tz).year,
        form=extra.pop("form", {}),
        **extra,
    )


@get("/partners/admin/c/{community_id:int}", include_in_schema=False)
async def admin_page(request: Request, community_id: int, actor: Actor, db_session: AsyncSession) -> Template:
    return await _admin_page(request, db_session, actor, community_id)


@post("/partners/admin/c/{community_id:int}/organisations", include_in_schema=False)
async def admin_create_organisation(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    raw = await request.form()
    form = {key: str(value) for key, value in raw.items() if isinstance(value, str)}
    try:
        organisation, _ids_made = await services.create_organisation(
            db_session,
            actor,
            community_id,
            services.OrganisationInput(
                name=form.get("name", ""),
                kinds=[str(k) for k in raw.getall("kinds")] if "kinds" in raw else [],
                members=[
                    services.MemberInput(
                        form.get("phone", ""), form.get("display_name", ""), form.get("password") or None
                    )
                ],
                category=form.get("category", ""),
                address=form.get("address", ""),
            ),
            address=client_address(request),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        form.pop("password", None)
        kept: dict[str, Any] = {
            **form,
            "kinds": [str(k) for k in raw.getall("kinds")] if "kinds" in raw else [],
        }
        return await _admin_page(
            request,
            db_session,
            actor,
            community_id,
            status_code=exc.status_code,
            error=error_message(request, exc),
            form=kept,
        )
    return Redirect(f"/partners/o/{organisation.id}?saved=organisation", status_code=303)


@post("/partners/admin/c/{community_id:int}/agreements", include_in_schema=False)
async def admin_create_agreement(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        year = optional_int(form.get("year"))
        if year is None:
            raise Invalid(lazy("Please enter a year between 2000 and 2100."), field="year")
        agreement = await agreements.create_agreement(
            db_session,
            actor,
            community_id,
            agreements.AgreementInput(
                organisation_id=forms.one_id(form, "organisation_id"),
                year=year,
                wishes=forms.count(form, "wishes"),
                volunteer_hours=forms.count(form, "volunteer_hours"),
                resources=forms.count(form, "resources"),
                projects=forms.count(form, "projects"),
            ),
            address=client_address(request),
            form_key=form.get("key"),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _admin_page(
            request,
            db_session,
            actor,
            community_id,
            status_code=exc.status_code,
            error=error_message(request, exc),
            form=form,
        )
    return Redirect(f"/partners/agreements/{agreement.id}?saved=agreement", status_code=303)


# ---------------------------------------------------------------- in-service registrations


@get("/partners/admin/c/{community_id:int}/registrations", include_in_schema=False)
async def registrations_page(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    community = await community_for(db_session, actor, community_id, "admin", "staff")
    return forms.page(
        request,
        "partners/registrations.html",
        community=community,
        rows=await registrations.registrations_of(db_session, actor, community_id),
        is_admin=actor.has(community_id, "admin"),
    )


@post("/partners/registrations/{registration_id:int}", include_in_schema=False)
async def registration_decide(
    request: Request, registration_id: int, actor: Actor, db_session: AsyncSession
) -> Redirect:
    form = await form_data(request)
    registration = await registrations.decide(
        db_session, actor, registration_id, form.get("decision") == "confirm", address=client_address(request)
    )
    return Redirect(
        f"/partners/admin/c/{registration.community_id}/registrations?saved=decided", status_code=303
    )


route_handlers = [
    admin_page,
    admin_create_organisation,
    admin_create_agreement,
    registrations_page,
    registration_decide,
]
