"""The partners' pages: the member's office home, the printable agreement, in-service
registration, the three lists, the matching view and projects; and the partners' share of the
home page (app.core.homes). The admin's organisations, agreements and registrations are
app.partners.admin_pages; what both share is app.partners.forms."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership, User
from app.core import clock, homes, organisations
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid, NotFound
from app.core.i18n import lazy
from app.core.web import client_address, error_message, form_data, optional_int, reopen_form, reopen_page
from app.partners import agreements, forms, lists, registrations, rules, services
from app.payments import contributions as funding
from app.places.models import Community
from app.places.services import community_for, time_zone_of


@dataclass
class OfficePart:
    """Another domain's section of an organisation's office page (micro-wishes: the wishes open
    to the unit and those it delivered): a partial template and what it shows. The domain
    registers a hook making it with app.core.organisations.office_part."""

    template: str
    context: dict[str, Any]


# ---------------------------------------------------------------- home page


@homes.part
async def home(session: AsyncSession, actor: Actor, community: Any) -> homes.HomePart:
    cid = community.id
    part = homes.HomePart()
    if actor.has(cid, "admin"):
        part.links.append((f"/partners/admin/c/{cid}", lazy("Partner units and agreements")))
        part.links.append((f"/partners/admin/c/{cid}/registrations", lazy("In-service registrations")))
    if actor.has(cid, "admin", "staff", "grid_worker"):
        part.links.append((f"/partners/c/{cid}/lists", lazy("Resources, needs and projects")))
        part.links.append((f"/partners/c/{cid}/matching", lazy("Matching needs and resources")))
    part.links.append(("/partners/register", lazy("In-service registration")))
    return part


@homes.account_part
async def home_office(session: AsyncSession, actor: Actor) -> list[homes.Panel]:
    """The organisations the person acts for, on top of their home page: the way into the unit's
    office page even for a member who lives in no community of the app."""
    mine = await services.organisations_of(session, actor.user_id)
    if not mine:
        return []
    return [
        homes.Panel(
            "organisations",
            lazy("My organisation"),
            [homes.Entry(m.name, "", f"/partners/o/{m.organisation_id}") for m in mine],
            order=5,
        )
    ]


# ---------------------------------------------------------------- the member's office


@get("/partners", include_in_schema=False)
async def my_organisations(request: Request, actor: Actor, db_session: AsyncSession) -> Template | Redirect:
    mine = await services.organisations_of(db_session, actor.user_id)
    return forms.page(request, "partners/mine.html", organisations=mine)


async def _organisation_page(
    request: Request, db_session: AsyncSession, actor: Actor, organisation_id: int, **extra: Any
) -> Template:
    organisation = await services.organisation_for(db_session, actor, organisation_id)
    member = await services.is_member(db_session, organisation_id, actor.user_id)
    mine = {m.organisation_id: m for m in await services.organisations_of(db_session, actor.user_id)}
    # Agreements and resources are a partner unit's: a provider only shows its own sections.
    partner = "partner" in organisation.kinds
    views = await agreements.agreements_of_organisation(db_session, actor, organisation_id) if partner else []
    acting: list[Community] = []
    if member and partner:
        ids = await services.acting_in(db_session, organisation_id)
        acting = list(
            (
                await db_session.scalars(
                    select(Community).where(Community.id.in_(ids)).order_by(Community.id)
                )
            ).all()
        )
    home_community = await db_session.get(Community, organisation.community_id)
    # Other domains' sections, registered with app.core.organisations (`office_part`).
    where = [c.id for c in acting]
    hooks = organisations.office_parts(organisation.kinds) if member else ()
    parts = [await hook(db_session, actor, organisation_id, where) for hook in hooks]
    return forms.page(
        request,
        "partners/organisation.html",
        status_code=extra.pop("status_code", 200),
        organisation=organisation,
        home_community=home_community,
        is_member=member,
        # Who manages the members: the organisation's admins and its community's admins.
        may_manage=(organisation_id in mine and mine[organisation_id].is_admin)
        or actor.has(organisation.community_id, "admin"),
        agreements=views,
        partner=partner,
        resources=await lists.resources_of_organisation(db_session, organisation_id) if partner else [],
        members=await services.members_of(db_session, organisation_id),
        acting=acting,
        parts=[part for part in parts if part is not None],
        form=extra.pop("form", {}),
        **extra,
    )


@get("/partners/o/{organisation_id:int}", include_in_schema=False)
async def organisation_page(
    request: Request, organisation_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    return await _organisation_page(request, db_session, actor, organisation_id)


@post("/partners/o/{organisation_id:int}/resources", include_in_schema=False)
async def organisation_add_resource(
    request: Request, organisation_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        await lists.add_resource(
            db_session,
            actor,
            organisation_id,
            forms.one_id(form, "community_id"),
            title=form.get("title", ""),
            category=form.get("category", ""),
            description=form.get("description", ""),
            address=client_address(request),
            form_key=form.get("key"),
        )
    except DomainError as exc:
        return await reopen_page(
            request,
            db_session,
            exc,
            partial(_organisation_page, request, db_session, actor, organisation_id),
            form=form,
        )
    return Redirect(f"/partners/o/{organisation_id}?saved=resource", status_code=303)


@post("/partners/o/{organisation_id:int}/members", include_in_schema=False)
async def organisation_add_member(
    request: Request, organisation_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        await services.add_member(
            db_session,
            actor,
            organisation_id,
            services.MemberInput(
                form.get("phone", ""), form.get("display_name", ""), form.get("password") or None
            ),
            address=client_address(request),
        )
    except DomainError as exc:
        form.pop("phone", None)
        form.pop("password", None)
        return await reopen_page(
            request,
            db_session,
            exc,
            partial(_organisation_page, request, db_session, actor, organisation_id),
            form=form,
        )
    return Redirect(f"/partners/o/{organisation_id}?saved=member", status_code=303)


# A step on one member, by the organisation's admins and its community's, each asked first:
# its page, the use case that takes it and the notice after it.
MEMBER_STEPS = {
    "remove": ("partners/remove_member.html", services.remove_member, "member_removed"),
    "admin": ("partners/make_admin.html", services.make_admin, "admin"),
}


async def _member_step_page(
    request: Request,
    db_session: AsyncSession,
    actor: Actor,
    organisation_id: int,
    member_id: int,
    step: str,
    **extra: Any,
) -> Template:
    """The question before a step on one member (removing them, making them an admin)."""
    organisation = await services.organisation_for(db_session, actor, organisation_id, admin=True)
    members = await services.members_of(db_session, organisation_id)
    member = next((m for m in members if m[0] == member_id), None)
    if member is None:
        raise NotFound()
    return forms.page(
        request,
        MEMBER_STEPS[step][0],
        status_code=extra.pop("status_code", 200),
        organisation=organisation,
        member_id=member_id,
        member_name=member[1],
        member_is_admin=member[2],
        only_admin=member[2] and sum(1 for m in members if m[2]) == 1,
        yourself=member_id == actor.user_id,
        **extra,
    )


async def _member_step(
    request: Request, db_session: AsyncSession, actor: Actor, organisation_id: int, member_id: int, step: str
) -> Template | Redirect:
    """A step's form: without its confirmation the question again; taken, back to the office page
    (to the person's organisations when they left it themselves)."""
    page = partial(_member_step_page, request, db_session, actor, organisation_id, member_id, step)
    if (await form_data(request)).get("confirm") != "1":
        return await page()
    _, use_case, saved = MEMBER_STEPS[step]
    try:
        await use_case(db_session, actor, organisation_id, member_id, address=client_address(request))
    except DomainError as exc:
        return await reopen_page(request, db_session, exc, page)
    if step == "remove" and member_id == actor.user_id:  # who left no longer opens the office page
        return Redirect("/partners?saved=left", status_code=303)
    return Redirect(f"/partners/o/{organisation_id}?saved={saved}", status_code=303)


@get("/partners/o/{organisation_id:int}/members/{member_id:int}/remove", include_in_schema=False)
async def remove_member_confirm(
    request: Request, organisation_id: int, member_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    """The confirmation step: the member acts for the organisation no more."""
    return await _member_step_page(request, db_session, actor, organisation_id, member_id, "remove")


@post("/partners/o/{organisation_id:int}/members/{member_id:int}/remove", include_in_schema=False)
async def remove_member(
    request: Request, organisation_id: int, member_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    return await _member_step(request, db_session, actor, organisation_id, member_id, "remove")


@get("/partners/o/{organisation_id:int}/members/{member_id:int}/admin", include_in_schema=False)
async def make_member_admin_confirm(
    request: Request, organisation_id: int, member_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    """The confirmation step: an admin manages the members, and the pages have no step that takes
    it back (only removing the member ends it)."""
    return await _member_step_page(request, db_session, actor, organisation_id, member_id, "admin")


@post("/partners/o/{organisation_id:int}/members/{member_id:int}/admin", include_in_schema=False)
async def make_member_admin(
    request: Request, organisation_id: int, member_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    return await _member_step(request, db_session, actor, organisation_id, member_id, "admin")


# ---------------------------------------------------------------- agreements


async def _agreement_page(
    request: Request, db_session: AsyncSession, actor: Actor, agreement_id: int, **extra: Any
) -> Template:
    view = await agreements.agreement_for(db_session, actor, agreement_id)
    tz = await time_zone_of(db_session, view.community.id)
    mine = {m.organisation_id: m for m in await services.organisations_of(db_session, actor.user_id)}
    org_admin = view.organisation.id in mine and mine[view.organisation.id].is_admin
    return forms.page(
        request,
        "partners/agreement.html",
        status_code=extra.pop("status_code", 200),
        view=view,
        today=clock.today(tz),
        printed_at=clock.now(),
        time_zone=tz,
        community_admin=actor.has(view.community.id, "admin"),
        may_mark=actor.has(view.community.id, "admin") or org_admin,
        form=extra.pop("form", {}),  # a refused task keeps what was typed
        **extra,
    )


@get("/partners/agreements/{agreement_id:int}", include_in_schema=False)
async def agreement_page(
    request: Request, agreement_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    return await _agreement_page(request, db_session, actor, agreement_id)


@post("/partners/agreements/{agreement_id:int}/tasks", include_in_schema=False)
async def agreement_add_task(
    request: Request, agreement_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        await agreements.add_task(
            db_session,
            actor,
            agreement_id,
            agreements.TaskInput(form.get("title", ""), forms.parse_date(form.get("due_on"), "due_on")),
            address=client_address(request),
            form_key=form.get("key"),
        )
    except DomainError as exc:
        return await reopen_page(
            request,
            db_session,
            exc,
            partial(_agreement_page, request, db_session, actor, agreement_id),
            form=form,
        )
    return Redirect(f"/partners/agreements/{agreement_id}?saved=task", status_code=303)


@post("/partners/tasks/{task_id:int}", include_in_schema=False)
async def task_mark(request: Request, task_id: int, actor: Actor, db_session: AsyncSession) -> Redirect:
    form = await form_data(request)
    task = await agreements.mark_task(
        db_session, actor, task_id, form.get("done") == "1", address=client_address(request)
    )
    return Redirect(f"/partners/agreements/{task.agreement_id}?saved=task", status_code=303)


# ---------------------------------------------------------------- in-service registration


async def _register_page(request: Request, db_session: AsyncSession, actor: Actor, **extra: Any) -> Template:
    communities = [c for c in [await db_session.get(Community, cid) for cid in sorted(actor.roles)] if c]
    return forms.page(
        request,
        "partners/register.html",
        status_code=extra.pop("status_code", 200),
        communities=communities,
        units=await registrations.work_units(db_session),
        mine=await registrations.mine(db_session, actor),
        community_names={c.id: c.name for c in communities},
        **extra,
    )


@get("/partners/register", include_in_schema=False)
async def register_page(request: Request, actor: Actor, db_session: AsyncSession) -> Template:
    return await _register_page(request, db_session, actor)


@post("/partners/register", include_in_schema=False)
async def register_post(request: Request, actor: Actor, db_session: AsyncSession) -> Template | Redirect:
    form = await form_data(request)
    try:
        await registrations.register(
            db_session,
            actor,
            forms.one_id(form, "community_id"),
            forms.one_id(form, "organisation_id"),
            address=client_address(request),
        )
    except DomainError as exc:
        await reopen_form(db_session, exc)
        return await _register_page(
            request, db_session, actor, status_code=exc.status_code, error=error_message(request, exc)
        )
    return Redirect("/partners/register?saved=registration", status_code=303)


# ---------------------------------------------------------------- the three lists


async def _lists_page(
    request: Request, db_session: AsyncSession, actor: Actor, community_id: int, **extra: Any
) -> Template:
    community = await lists.lists_community(db_session, actor, community_id)
    people: list[tuple[int, str]] = []
    is_admin = actor.has(community_id, "admin")
    if is_admin:
        rows = await db_session.execute(
            select(User.id, User.display_name)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.community_id == community_id, Membership.roles.overlap(forms.OWNER_ROLES))
            .order_by(User.display_name)
        )
        people = [(row[0], row[1]) for row in rows]
    return forms.page(
        request,
        "partners/lists.html",
        status_code=extra.pop("status_code", 200),
        community=community,
        resources=await lists.resources_of(db_session, community_id),
        needs=await lists.needs_of(db_session, community_id),
        projects=await lists.projects_of(db_session, community_id),
        today=clock.today(await time_zone_of(db_session, community_id)),  # a due date passed: overdue
        overdue=rules.overdue,
        may_list_needs=actor.has(community_id, "admin", "staff", "grid_worker"),
        is_admin=is_admin,
        people=people,
        form=extra.pop("form", {}),
        **extra,
    )


@get("/partners/c/{community_id:int}/lists", include_in_schema=False)
async def lists_page(request: Request, community_id: int, actor: Actor, db_session: AsyncSession) -> Template:
    return await _lists_page(request, db_session, actor, community_id)


@post("/partners/c/{community_id:int}/needs", include_in_schema=False)
async def lists_add_need(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        await lists.add_need(
            db_session,
            actor,
            community_id,
            title=form.get("title", ""),
            category=form.get("category", ""),
            description=form.get("description", ""),
            address=client_address(request),
            form_key=form.get("key"),
        )
    except DomainError as exc:
        return await reopen_page(
            request,
            db_session,
            exc,
            partial(_lists_page, request, db_session, actor, community_id),
            form=form,
        )
    return Redirect(f"/partners/c/{community_id}/lists?saved=need", status_code=303)


@post("/partners/c/{community_id:int}/projects", include_in_schema=False)
async def lists_create_project(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    raw = await request.form()
    form = {key: str(value) for key, value in raw.items() if isinstance(value, str)}
    try:
        goal_yuan = form.get("funding_goal", "").strip()
        goal = optional_int(goal_yuan) if goal_yuan else None
        if goal_yuan and (goal is None or goal < 1):
            raise Invalid(lazy("The funding goal must be a positive amount."), field="funding_goal")
        project = await lists.create_project(
            db_session,
            actor,
            community_id,
            lists.ProjectInput(
                title=form.get("title", ""),
                owner_user_id=forms.one_id(form, "owner_user_id"),
                due_on=forms.parse_date(form.get("due_on"), "due_on"),
                need_ids=forms.ids([str(v) for v in raw.getall("need_ids")] if "need_ids" in raw else []),
                resource_ids=forms.ids(
                    [str(v) for v in raw.getall("resource_ids")] if "resource_ids" in raw else []
                ),
                funding_goal_cents=goal * 100 if goal else None,
                note=form.get("note", ""),
            ),
            address=client_address(request),
            form_key=form.get("key"),
        )
    except DomainError as exc:
        return await reopen_page(
            request,
            db_session,
            exc,
            partial(_lists_page, request, db_session, actor, community_id),
            form=form,
        )
    return Redirect(f"/partners/projects/{project.id}?saved=project", status_code=303)


@get("/partners/c/{community_id:int}/matching", include_in_schema=False)
async def matching_page(
    request: Request, community_id: int, actor: Actor, db_session: AsyncSession
) -> Template:
    community = await community_for(db_session, actor, community_id, "admin", "staff", "grid_worker")
    return forms.page(
        request,
        "partners/matching.html",
        community=community,
        matches=await lists.matching(db_session, actor, community_id),
        is_admin=actor.has(community_id, "admin"),
    )


async def _project_page(
    request: Request, db_session: AsyncSession, actor: Actor, project_id: int, **extra: Any
) -> Template:
    view = await lists.project_view(db_session, actor, project_id)
    community = await db_session.get(Community, view.project.community_id)
    return forms.page(
        request,
        "partners/project.html",
        status_code=extra.pop("status_code", 200),
        view=view,
        community=community,
        today=clock.today(await time_zone_of(db_session, view.project.community_id)),
        overdue=rules.overdue,
        may_step=actor.has(view.project.community_id, "admin") or view.project.owner_user_id == actor.user_id,
        funding=await funding.funding_box(db_session, "project", project_id),
        may_money=actor.has(view.project.community_id, "admin"),
        **extra,
    )


@get("/partners/projects/{project_id:int}", include_in_schema=False)
async def project_page(request: Request, project_id: int, actor: Actor, db_session: AsyncSession) -> Template:
    return await _project_page(request, db_session, actor, project_id)


@post("/partners/projects/{project_id:int}/step", include_in_schema=False)
async def project_step(
    request: Request, project_id: int, actor: Actor, db_session: AsyncSession
) -> Template | Redirect:
    form = await form_data(request)
    try:
        await lists.step_project(
            db_session,
            actor,
            project_id,
            form.get("status", ""),
            form.get("note", ""),
            address=client_address(request),
        )
    except DomainError as exc:
        return await reopen_page(
            request, db_session, exc, partial(_project_page, request, db_session, actor, project_id)
        )
    return Redirect(f"/partners/projects/{project_id}?saved=step", status_code=303)


route_handlers = [
    my_organisations,
    organisation_page,
    organisation_add_resource,
    organisation_add_member,
    remove_member_confirm,
    remove_member,
    make_member_admin_confirm,
    make_member_admin,
    agreement_page,
    agreement_add_task,
    task_mark,
    register_page,
    register_post,
    lists_page,
    lists_add_need,
    lists_create_project,
    matching_page,
    project_page,
    project_step,
]
