"""The partners JSON API (API.md "Organisations" and "Resource, need and project lists")."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.authz import Actor
from app.core.web import client_address
from app.partners import agreements, lists, registrations, services
from app.partners.schemas import (
    AgreementIn,
    AgreementOut,
    AgreementsOut,
    Created,
    DecisionIn,
    FullCommitments,
    ListItem,
    ListOut,
    MemberAdded,
    MemberIn,
    NeedIn,
    OrganisationCreated,
    OrganisationIn,
    Progress,
    ProjectCreated,
    ProjectIn,
    ProjectStatusOut,
    ProjectStepIn,
    RegistrationIn,
    RegistrationOut,
    ResourceIn,
    TaskOut,
)


def agreement_out(view: agreements.AgreementView) -> AgreementOut:
    return AgreementOut(
        id=view.agreement.id,
        community_id=view.agreement.community_id,
        year=view.agreement.year,
        commitments=FullCommitments(**view.commitments),
        progress=Progress(**view.progress),
        organisation_id=view.organisation.id,
        community_name=view.community.name,
        tasks=[
            TaskOut(id=t.id, title=t.title, due_on=t.due_on, done=t.done_at is not None) for t in view.tasks
        ],
    )


@post("/api/v1/communities/{community_id:int}/organisations", tags=["organisations"], status_code=201)
async def api_create_organisation(
    community_id: int,
    data: JSONBody[OrganisationIn],
    actor: Actor,
    db_session: AsyncSession,
    request: Request,
) -> OrganisationCreated:
    organisation, user_ids = await services.create_organisation(
        db_session,
        actor,
        community_id,
        services.OrganisationInput(
            name=data.name,
            kinds=list(data.kinds),
            members=[services.MemberInput(m.phone, m.display_name, m.password) for m in data.members],
            category=data.category or "",
            address=data.address or "",
            lat=data.lat,
            lng=data.lng,
        ),
        address=client_address(request),
    )
    return OrganisationCreated(id=organisation.id, member_user_ids=user_ids)


@post("/api/v1/organisations/{organisation_id:int}/members", tags=["organisations"], status_code=201)
async def api_add_member(
    organisation_id: int, data: JSONBody[MemberIn], actor: Actor, db_session: AsyncSession, request: Request
) -> MemberAdded:
    """The organisation's admin adds a member; a known phone links that user as a member only."""
    user_id = await services.add_member(
        db_session,
        actor,
        organisation_id,
        services.MemberInput(data.phone, data.display_name, data.password),
        address=client_address(request),
    )
    return MemberAdded(user_id=user_id)


@post("/api/v1/communities/{community_id:int}/agreements", tags=["organisations"], status_code=201)
async def api_create_agreement(
    community_id: int, data: JSONBody[AgreementIn], actor: Actor, db_session: AsyncSession, request: Request
) -> Created:
    c = data.commitments
    agreement = await agreements.create_agreement(
        db_session,
        actor,
        community_id,
        agreements.AgreementInput(
            organisation_id=data.organisation_id,
            year=data.year,
            wishes=c.wishes or 0,
            volunteer_hours=c.volunteer_hours or 0,
            resources=c.resources or 0,
            projects=c.projects or 0,
            tasks=[agreements.TaskInput(t.title, t.due_on) for t in data.tasks],
        ),
        address=client_address(request),
    )
    return Created(id=agreement.id)


@get("/api/v1/organisations/{organisation_id:int}/agreements", tags=["organisations"])
async def api_agreements(organisation_id: int, actor: Actor, db_session: AsyncSession) -> AgreementsOut:
    views = await agreements.agreements_of_organisation(db_session, actor, organisation_id)
    return AgreementsOut(items=[agreement_out(v) for v in views])


# ---------------------------------------------------------------- the three lists


@post("/api/v1/organisations/{organisation_id:int}/resources", tags=["lists"], status_code=201)
async def api_add_resource(
    organisation_id: int, data: JSONBody[ResourceIn], actor: Actor, db_session: AsyncSession, request: Request
) -> Created:
    resource = await lists.add_resource(
        db_session,
        actor,
        organisation_id,
        data.community_id,
        title=data.title,
        category=data.category,
        description=data.description,
        address=client_address(request),
    )
    return Created(id=resource.id)


@post("/api/v1/communities/{community_id:int}/needs", tags=["lists"], status_code=201)
async def api_add_need(
    community_id: int, data: JSONBody[NeedIn], actor: Actor, db_session: AsyncSession, request: Request
) -> Created:
    need = await lists.add_need(
        db_session,
        actor,
        community_id,
        title=data.title,
        category=data.category,
        description=data.description,
        address=client_address(request),
    )
    return Created(id=need.id)


@post("/api/v1/communities/{community_id:int}/projects", tags=["lists"], status_code=201)
async def api_create_project(
    community_id: int, data: JSONBody[ProjectIn], actor: Actor, db_session: AsyncSession, request: Request
) -> ProjectCreated:
    project = await lists.create_project(
        db_session,
        actor,
        community_id,
        lists.ProjectInput(
            title=data.title,
            owner_user_id=data.owner_user_id,
            due_on=data.due_on,
            need_ids=list(data.need_ids or []),
            resource_ids=list(data.resource_ids or []),
            funding_goal_cents=data.funding_goal_cents,
        ),
        address=client_address(request),
    )
    return ProjectCreated(id=project.id, status=project.status)


@post("/api/v1/projects/{project_id:int}/steps", tags=["lists"], status_code=200)
async def api_step_project(
    project_id: int, data: JSONBody[ProjectStepIn], actor: Actor, db_session: AsyncSession, request: Request
) -> ProjectStatusOut:
    project = await lists.step_project(
        db_session, actor, project_id, data.status, data.note, address=client_address(request)
    )
    return ProjectStatusOut(status=project.status)


@get("/api/v1/communities/{community_id:int}/resources", tags=["lists"])
async def api_resources(community_id: int, actor: Actor, db_session: AsyncSession) -> ListOut:
    await lists.lists_community(db_session, actor, community_id)
    rows = await lists.resources_of(db_session, community_id)
    return ListOut(
        items=[
            ListItem(
                id=row.resource.id,
                title=row.resource.title,
                status=row.status,
                category=row.resource.category,
                organisation_id=row.resource.organisation_id,
                organisation_name=row.organisation_name,
            )
            for row in rows
        ]
    )


@get("/api/v1/communities/{community_id:int}/needs", tags=["lists"])
async def api_needs(community_id: int, actor: Actor, db_session: AsyncSession) -> ListOut:
    await lists.lists_community(db_session, actor, community_id)
    rows = await lists.needs_of(db_session, community_id)
    return ListOut(
        items=[
            ListItem(id=r.need.id, title=r.need.title, status=r.status, category=r.need.category)
            for r in rows
        ]
    )


@get("/api/v1/communities/{community_id:int}/projects", tags=["lists"])
async def api_projects(community_id: int, actor: Actor, db_session: AsyncSession) -> ListOut:
    await lists.lists_community(db_session, actor, community_id)
    projects = await lists.projects_of(db_session, community_id)
    return ListOut(
        items=[
            ListItem(
                id=p.id,
                title=p.title,
                status=p.status,
                due_on=p.due_on,
                funding_goal_cents=p.funding_goal_cents,
            )
            for p in projects
        ]
    )


# ---------------------------------------------------------------- in-service registration


@post("/api/v1/registrations", tags=["organisations"], status_code=201)
async def api_register(
    data: JSONBody[RegistrationIn], actor: Actor, db_session: AsyncSession, request: Request
) -> RegistrationOut:
    registration = await registrations.register(
        db_session, actor, data.community_id, data.organisation_id, address=client_address(request)
    )
    return RegistrationOut(id=registration.id, status=registration.status)


@post("/api/v1/registrations/{registration_id:int}/decision", tags=["organisations"], status_code=200)
async def api_decide_registration(
    registration_id: int, data: JSONBody[DecisionIn], actor: Actor, db_session: AsyncSession, request: Request
) -> RegistrationOut:
    registration = await registrations.decide(
        db_session, actor, registration_id, data.decision == "confirm", address=client_address(request)
    )
    return RegistrationOut(id=registration.id, status=registration.status)


route_handlers = [
    api_create_organisation,
    api_add_member,
    api_create_agreement,
    api_agreements,
    api_add_resource,
    api_add_need,
    api_create_project,
    api_step_project,
    api_resources,
    api_needs,
    api_projects,
    api_register,
    api_decide_registration,
]
