"""The partners JSON API (API.md "Organisations" and "Resource, need and project lists")."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.authz import Actor
from app.core.web import client_address
from app.partners import agreements, services
from app.partners.schemas import (
    AgreementIn,
    AgreementOut,
    AgreementsOut,
    Created,
    FullCommitments,
    OrganisationCreated,
    OrganisationIn,
    Progress,
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


route_handlers = [api_create_organisation, api_create_agreement, api_agreements]
