"""The three lists (资源清单、需求清单、项目清单): what partners offer, what the community needs,
and the projects that match them, with the matching view for the monthly meeting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import Membership, User
from app.core import audit, form_keys
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.i18n import lazy
from app.partners import rules
from app.partners.models import (
    Need,
    Organisation,
    OrganisationMember,
    Project,
    ProjectNeed,
    ProjectResource,
    ProjectStep,
    Resource,
)
from app.partners.services import is_member, may_act_in
from app.places.models import Community
from app.places.services import community_for

MAX_FUNDING_CENTS = 2**53 - 1


def _title(value: str | None) -> str:
    value = " ".join((value or "").split())
    if not value or len(value) > 200:
        raise Invalid(lazy("Please enter a title of 1 to 200 characters."), field="title")
    return value


def _category(value: str | None) -> str:
    category = rules.clean_category(value)
    if not category:
        raise Invalid(lazy("Please enter a category."), field="category")
    if len(" ".join((value or "").split())) > len(category):
        # clean_category keeps 50 characters: a longer one is refused, not cut short.
        raise Invalid(lazy("Please enter a category of 1 to 50 characters."), field="category")
    return category


def _description(value: str | None) -> str:
    value = (value or "").strip()
    if len(value) > 2000:
        raise Invalid(lazy("This text is too long."), field="description", limit=2000)
    return value


async def acting_organisations(session: AsyncSession, actor: Actor, community_id: int) -> list[Organisation]:
    """The actor's organisations that may act in the community now."""
    rows = (
        await session.scalars(
            select(Organisation)
            .join(OrganisationMember, OrganisationMember.organisation_id == Organisation.id)
            .where(OrganisationMember.user_id == actor.user_id)
            .order_by(Organisation.name)
        )
    ).all()
    return [org for org in rows if await may_act_in(session, org.id, community_id)]


async def lists_community(session: AsyncSession, actor: Actor, community_id: int) -> Community:
    """The community whose lists the actor may read: its grid workers, staff and admins, and the
    members of organisations that may act there. Anyone else is refused."""
    community = await session.get(Community, community_id)
    if community is None:
        raise NotFound()
    if actor.has(community_id, "admin", "staff", "grid_worker"):
        return community
    if not await acting_organisations(session, actor, community_id):
        raise Forbidden()
    return community


# ---------------------------------------------------------------- resources


async def add_resource(
    session: AsyncSession,
    actor: Actor,
    organisation_id: int,
    community_id: int,
    *,
    title: str,
    category: str,
    description: str | None = None,
    address: str | None = None,
    form_key: str | None = None,
) -> Resource:
    """A member of the organisation lists what it can give a community it may act in.
    `form_key` is the page form's (app.core.form_keys): its second sending lists nothing and
    answers the first one's resource."""
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None or not await is_member(session, organisation_id, actor.user_id):
        raise NotFound()
    if "partner" not in organisation.kinds:
        raise Forbidden(lazy("Only a partner unit lists resources."))
    if await session.get(Community, community_id) is None:
        raise NotFound()
    if not await may_act_in(session, organisation_id, community_id):
        raise Forbidden(lazy("Your organisation has no agreement with this community for this year."))
    key = form_keys.clean(form_key)

    async def make() -> Resource:
        resource = Resource(
            community_id=community_id,
            organisation_id=organisation_id,
            title=_title(title),
            category=_category(category),
            description=_description(description),
            created_by=actor.user_id,
            form_key=key,
        )
        session.add(resource)
        await session.flush()
        await audit.record(
            session,
            action="resource.listed",
            actor_id=actor.user_id,
            community_id=community_id,
            target=f"resource:{resource.id}",
            address=address,
            organisation_id=organisation_id,
        )
        return resource

    return await form_keys.once(
        session, key, form_keys.finder(session, Resource, "created_by", actor.user_id), make
    )


@dataclass
class ResourceRow:
    resource: Resource
    organisation_name: str
    used: bool

    @property
    def status(self) -> str:
        return "used" if self.used else "available"


async def resources_of(
    session: AsyncSession, community_id: int, organisation_id: int | None = None
) -> list[ResourceRow]:
    used = exists().where(ProjectResource.resource_id == Resource.id)
    stmt = (
        select(Resource, Organisation.name, used)
        .join(Organisation, Organisation.id == Resource.organisation_id)
        .where(Resource.community_id == community_id)
    )
    if organisation_id is not None:
        stmt = stmt.where(Resource.organisation_id == organisation_id)
    rows = (await session.execute(stmt.order_by(Resource.created_at.desc(), Resource.id.desc()))).all()
    return [ResourceRow(r, name, bool(u)) for r, name, u in rows]


async def resources_of_organisation(session: AsyncSession, organisation_id: int) -> list[ResourceRow]:
    used = exists().where(ProjectResource.resource_id == Resource.id)
    rows = (
        await session.execute(
            select(Resource, Organisation.name, used)
            .join(Organisation, Organisation.id == Resource.organisation_id)
            .where(Resource.organisation_id == organisation_id)
            .order_by(Resource.created_at.desc(), Resource.id.desc())
        )
    ).all()
    return [ResourceRow(r, name, bool(u)) for r, name, u in rows]


# ---------------------------------------------------------------- needs


async def add_need(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    *,
    title: str,
    category: str,
    description: str | None = None,
    address: str | None = None,
    form_key: str | None = None,
) -> Need:
    """A grid worker, staff or admin lists a need heard on a visit or a call. `form_key` is the
    page form's (app.core.form_keys): its second sending lists nothing and answers the first
    one's need."""
    await community_for(session, actor, community_id, "admin", "staff", "grid_worker")
    key = form_keys.clean(form_key)

    async def make() -> Need:
        need = Need(
            community_id=community_id,
            title=_title(title),
            category=_category(category),
            description=_description(description),
            created_by=actor.user_id,
            form_key=key,
        )
        session.add(need)
        await session.flush()
        await audit.record(
            session,
            action="need.listed",
            actor_id=actor.user_id,
            community_id=community_id,
            target=f"need:{need.id}",
            address=address,
        )
        return need

    return await form_keys.once(
        session, key, form_keys.finder(session, Need, "created_by", actor.user_id), make
    )


@dataclass
class NeedRow:
    need: Need
    matched: bool

    @property
    def status(self) -> str:
        return "matched" if self.matched else "open"


async def needs_of(session: AsyncSession, community_id: int) -> list[NeedRow]:
    matched = exists().where(ProjectNeed.need_id == Need.id)
    rows = (
        await session.execute(
            select(Need, matched)
            .where(Need.community_id == community_id)
            .order_by(Need.created_at.desc(), Need.id.desc())
        )
    ).all()
    return [NeedRow(n, bool(m)) for n, m in rows]


# ---------------------------------------------------------------- projects


@dataclass
class ProjectInput:
    title: str
    owner_user_id: int
    due_on: date
    need_ids: list[int]
    resource_ids: list[int]
    funding_goal_cents: int | None = None
    note: str = ""


async def _may_own(session: AsyncSession, community_id: int, user_id: int, resource_ids: list[int]) -> bool:
    """A project's owner is a member of the community or of an organisation whose resource the
    project uses."""
    in_community = exists().where(Membership.user_id == user_id, Membership.community_id == community_id)
    in_partner = exists().where(
        OrganisationMember.user_id == user_id,
        OrganisationMember.organisation_id.in_(
            select(Resource.organisation_id).where(Resource.id.in_(resource_ids or [0]))
        ),
    )
    return bool(await session.scalar(select(in_community | in_partner)))


async def create_project(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    data: ProjectInput,
    address: str | None = None,
    *,
    form_key: str | None = None,
) -> Project:
    """A community admin turns needs and resources into a project with an owner and a deadline.
    `form_key` is the page form's (app.core.form_keys): its second sending makes nothing and
    answers the first one's project."""
    await community_for(session, actor, community_id, "admin")
    key = form_keys.clean(form_key)
    find = form_keys.finder(session, Project, "created_by", actor.user_id)
    return await form_keys.once(
        session, key, find, partial(_make_project, session, actor, community_id, data, address, key)
    )


async def _make_project(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    data: ProjectInput,
    address: str | None,
    key: str | None,
) -> Project:
    need_ids = sorted(set(data.need_ids))
    resource_ids = sorted(set(data.resource_ids))
    if need_ids:
        found = set(
            (
                await session.scalars(
                    select(Need.id).where(Need.id.in_(need_ids), Need.community_id == community_id)
                )
            ).all()
        )
        if found != set(need_ids):
            raise Invalid(lazy("Please choose needs of this community."), field="need_ids")
    if resource_ids:
        found = set(
            (
                await session.scalars(
                    select(Resource.id).where(
                        Resource.id.in_(resource_ids), Resource.community_id == community_id
                    )
                )
            ).all()
        )
        if found != set(resource_ids):
            raise Invalid(lazy("Please choose resources listed for this community."), field="resource_ids")
    if await session.get(User, data.owner_user_id) is None or not await _may_own(
        session, community_id, data.owner_user_id, resource_ids
    ):
        raise Invalid(
            lazy("The owner must be a member of the community or of a partner giving a resource."),
            field="owner_user_id",
        )
    if data.funding_goal_cents is not None and not 1 <= data.funding_goal_cents <= MAX_FUNDING_CENTS:
        raise Invalid(lazy("The funding goal must be a positive amount."), field="funding_goal_cents")
    if not 2000 <= data.due_on.year <= 2100:
        raise Invalid(lazy("Please choose a due date between 2000 and 2100."), field="due_on")
    project = Project(
        community_id=community_id,
        title=_title(data.title),
        owner_user_id=data.owner_user_id,
        due_on=data.due_on,
        funding_goal_cents=data.funding_goal_cents,
        status="open",
        created_by=actor.user_id,
        form_key=key,
    )
    session.add(project)
    await session.flush()
    session.add_all([ProjectNeed(project_id=project.id, need_id=n) for n in need_ids])
    session.add_all([ProjectResource(project_id=project.id, resource_id=r) for r in resource_ids])
    session.add(
        ProjectStep(
            project_id=project.id, status="open", note=_description(data.note), actor_id=actor.user_id
        )
    )
    await session.flush()
    await audit.record(
        session,
        action="project.created",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"project:{project.id}",
        address=address,
        need_ids=need_ids,
        resource_ids=resource_ids,
    )
    return project


async def step_project(
    session: AsyncSession, actor: Actor, project_id: int, status: str, note: str, address: str | None = None
) -> Project:
    """Moves a project one step on (open -> in_progress -> done -> followed_up) with a note; by a
    community admin or the project's owner. The row is locked, so two steps at once cannot both
    move it."""
    project = await session.scalar(select(Project).where(Project.id == project_id).with_for_update())
    if project is None:
        raise NotFound()
    if not actor.has(project.community_id, "admin") and project.owner_user_id != actor.user_id:
        if actor.has(project.community_id, "staff", "grid_worker"):
            raise Forbidden()
        raise NotFound()
    note = " ".join((note or "").split())
    if not note or len(note) > 2000:
        raise Invalid(lazy("Please write a note for this step."), field="note")
    expected = rules.next_status(project.status)
    if expected is None:
        raise DomainError("already_done", 409, lazy("This project has already been followed up."))
    if status != expected:
        raise DomainError("conflict", 409, lazy("A project moves one step at a time."))
    project.status = status
    session.add(ProjectStep(project_id=project.id, status=status, note=note, actor_id=actor.user_id))
    await session.flush()
    await audit.record(
        session,
        action="project.step",
        actor_id=actor.user_id,
        community_id=project.community_id,
        target=f"project:{project.id}",
        address=address,
        status=status,
    )
    return project


async def projects_of(session: AsyncSession, community_id: int) -> list[Project]:
    return list(
        (
            await session.scalars(
                select(Project)
                .where(Project.community_id == community_id)
                .order_by(Project.due_on, Project.id)
            )
        ).all()
    )


@dataclass
class ProjectView:
    project: Project
    owner_name: str
    needs: list[Need]
    resources: list[tuple[Resource, str]]
    steps: list[tuple[ProjectStep, str]]

    @property
    def next_status(self) -> str | None:
        return rules.next_status(self.project.status)


async def project_view(session: AsyncSession, actor: Actor, project_id: int) -> ProjectView:
    project = await session.get(Project, project_id)
    if project is None:
        raise NotFound()
    if project.owner_user_id != actor.user_id:
        await lists_community(session, actor, project.community_id)
    owner = await session.scalar(select(User.display_name).where(User.id == project.owner_user_id))
    needs = (
        await session.scalars(
            select(Need)
            .join(ProjectNeed, ProjectNeed.need_id == Need.id)
            .where(ProjectNeed.project_id == project_id)
        )
    ).all()
    resources = (
        await session.execute(
            select(Resource, Organisation.name)
            .join(ProjectResource, ProjectResource.resource_id == Resource.id)
            .join(Organisation, Organisation.id == Resource.organisation_id)
            .where(ProjectResource.project_id == project_id)
        )
    ).all()
    steps = (
        await session.execute(
            select(ProjectStep, User.display_name)
            .outerjoin(User, User.id == ProjectStep.actor_id)
            .where(ProjectStep.project_id == project_id)
            .order_by(ProjectStep.created_at, ProjectStep.id)
        )
    ).all()
    return ProjectView(
        project,
        owner or "",
        list(needs),
        [(r, n) for r, n in resources],
        [(s, n or "") for s, n in steps],
    )


@dataclass
class Match:
    """One category of the matching view: needs without a project beside unused resources."""

    category: str
    needs: list[Need]
    resources: list[ResourceRow]


async def matching(session: AsyncSession, actor: Actor, community_id: int) -> list[Match]:
    """For the monthly meeting: each category with needs no project takes up yet, beside the
    resources of the same category that no project uses yet; categories with either first."""
    await community_for(session, actor, community_id, "admin", "staff", "grid_worker")
    needs = [row.need for row in await needs_of(session, community_id) if not row.matched]
    resources = [row for row in await resources_of(session, community_id) if not row.used]
    categories = sorted({n.category for n in needs} | {r.resource.category for r in resources})
    matches = [
        Match(
            category,
            [n for n in needs if n.category == category],
            [r for r in resources if r.resource.category == category],
        )
        for category in categories
    ]
    # Categories where a need meets a resource come first: they are the meeting's agenda.
    return sorted(matches, key=lambda m: (not (m.needs and m.resources), m.category))
