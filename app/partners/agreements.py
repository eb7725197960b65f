"""Co-building agreements (共建协议): per organisation, community and year, with commitments, an
annual task list, and progress counted from what happened (app.partners.progress)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import partial

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit, clock, form_keys
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid, NotFound
from app.core.i18n import lazy
from app.partners import progress, rules
from app.partners.models import Agreement, AgreementTask, Organisation, OrganisationMember, Registration
from app.partners.services import is_member
from app.places.models import Community
from app.places.services import community_for, time_zone_of


@dataclass
class TaskInput:
    title: str
    due_on: date


@dataclass
class AgreementInput:
    organisation_id: int
    year: int
    wishes: int = 0
    volunteer_hours: int = 0
    resources: int = 0
    projects: int = 0
    tasks: list[TaskInput] = field(default_factory=list)


@dataclass
class AgreementView:
    agreement: Agreement
    organisation: Organisation
    community: Community
    tasks: list[AgreementTask]
    progress: dict[str, int]

    @property
    def commitments(self) -> dict[str, int]:
        return {name: int(getattr(self.agreement, name)) for name in progress.COMMITMENTS}

    @property
    def shares(self) -> dict[str, rules.Share]:
        return {
            name: rules.Share(self.progress[name], self.commitments[name]) for name in progress.COMMITMENTS
        }


def _task(data: TaskInput, year: int, author: int, key: str | None = None) -> AgreementTask:
    title = " ".join((data.title or "").split())
    if not title or len(title) > 200:
        raise Invalid(lazy("Please enter a task of 1 to 200 characters."), field="tasks")
    if data.due_on.year != year:
        raise Invalid(lazy("A task's due date must fall in the agreement's year."), field="tasks")
    return AgreementTask(title=title, due_on=data.due_on, created_by=author, form_key=key)


async def create_agreement(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    data: AgreementInput,
    address: str | None = None,
    *,
    form_key: str | None = None,
) -> Agreement:
    """A community admin signs an organisation (a partner unit) to a year's agreement. `form_key`
    is the page form's (app.core.form_keys): its second sending signs nothing and answers the
    first one's agreement."""
    await community_for(session, actor, community_id, "admin")
    key = form_keys.clean(form_key)
    find = form_keys.finder(session, Agreement, "created_by", actor.user_id)
    return await form_keys.once(
        session, key, find, partial(_sign, session, actor, community_id, data, address, key)
    )


async def _sign(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    data: AgreementInput,
    address: str | None,
    key: str | None,
) -> Agreement:
    organisation = await session.get(Organisation, data.organisation_id)
    if organisation is None:
        raise NotFound()
    if "partner" not in organisation.kinds:
        raise Invalid(lazy("Only a partner unit signs co-building agreements."), field="organisation_id")
    if not 2000 <= data.year <= 2100:
        raise Invalid(lazy("Please enter a year between 2000 and 2100."), field="year")
    agreement = Agreement(
        organisation_id=organisation.id,
        community_id=community_id,
        year=data.year,
        wishes=data.wishes,
        volunteer_hours=data.volunteer_hours,
        resources=data.resources,
        projects=data.projects,
        created_by=actor.user_id,
        form_key=key,
    )
    tasks = [_task(task, data.year, actor.user_id) for task in data.tasks]
    if await session.scalar(
        select(Agreement.id).where(
            Agreement.organisation_id == organisation.id,
            Agreement.community_id == community_id,
            Agreement.year == data.year,
        )
    ):
        raise DomainError("conflict", 409, lazy("This organisation already has an agreement for that year."))
    session.add(agreement)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise DomainError(
            "conflict", 409, lazy("This organisation already has an agreement for that year.")
        ) from exc
    for task in tasks:
        task.agreement_id = agreement.id
        session.add(task)
    await session.flush()
    await audit.record(
        session,
        action="agreement.created",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"agreement:{agreement.id}",
        address=address,
        organisation_id=organisation.id,
        year=data.year,
    )
    return agreement


async def counting_users(session: AsyncSession, organisation_id: int, community_id: int) -> tuple[int, ...]:
    """Whose work counts for the organisation in the community: its members, and the users whose
    in-service registration there names it and was confirmed."""
    members = select(OrganisationMember.user_id).where(OrganisationMember.organisation_id == organisation_id)
    registered = select(Registration.user_id).where(
        Registration.organisation_id == organisation_id,
        Registration.community_id == community_id,
        Registration.status == "confirmed",
    )
    ids = set((await session.scalars(members)).all()) | set((await session.scalars(registered)).all())
    return tuple(sorted(ids))


async def progress_of(session: AsyncSession, agreement: Agreement) -> dict[str, int]:
    tz = await time_zone_of(session, agreement.community_id)
    start, end = rules.year_window(agreement.year, tz)
    query = progress.CountQuery(
        organisation_id=agreement.organisation_id,
        community_id=agreement.community_id,
        start=start,
        end=end,
        user_ids=await counting_users(session, agreement.organisation_id, agreement.community_id),
    )
    return await progress.count_all(session, query)


async def _view(session: AsyncSession, agreement: Agreement) -> AgreementView:
    organisation = await session.get(Organisation, agreement.organisation_id)
    community = await session.get(Community, agreement.community_id)
    assert organisation is not None and community is not None
    tasks = list(
        (
            await session.scalars(
                select(AgreementTask)
                .where(AgreementTask.agreement_id == agreement.id)
                .order_by(AgreementTask.due_on, AgreementTask.id)
            )
        ).all()
    )
    return AgreementView(agreement, organisation, community, tasks, await progress_of(session, agreement))


async def agreements_of_organisation(
    session: AsyncSession, actor: Actor, organisation_id: int
) -> list[AgreementView]:
    """For the organisation's members: all its agreements; for a community's admin: those with
    that community. Anyone else: not found."""
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound()
    stmt = select(Agreement).where(Agreement.organisation_id == organisation_id)
    if not await is_member(session, organisation_id, actor.user_id):
        if not actor.admin_of:
            raise NotFound()
        stmt = stmt.where(Agreement.community_id.in_(actor.admin_of))
        visible = list((await session.scalars(stmt)).all())
        if not visible and not actor.has(organisation.community_id, "admin"):
            raise NotFound()
    agreements = (await session.scalars(stmt.order_by(Agreement.year.desc(), Agreement.id))).all()
    return [await _view(session, a) for a in agreements]


async def agreement_for(session: AsyncSession, actor: Actor, agreement_id: int) -> AgreementView:
    """One agreement, for its organisation's members and its community's admins and staff."""
    agreement = await session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound()
    if not actor.has(agreement.community_id, "admin", "staff") and not await is_member(
        session, agreement.organisation_id, actor.user_id
    ):
        raise NotFound()
    return await _view(session, agreement)


async def agreements_of_community(
    session: AsyncSession, actor: Actor, community_id: int, year: int | None = None
) -> list[AgreementView]:
    await community_for(session, actor, community_id, "admin", "staff")
    stmt = select(Agreement).where(Agreement.community_id == community_id)
    if year is not None:
        stmt = stmt.where(Agreement.year == year)
    agreements = (await session.scalars(stmt.order_by(Agreement.year.desc(), Agreement.id))).all()
    return [await _view(session, a) for a in agreements]


async def add_task(
    session: AsyncSession,
    actor: Actor,
    agreement_id: int,
    data: TaskInput,
    address: str | None = None,
    *,
    form_key: str | None = None,
) -> AgreementTask:
    """A line of the agreement's task list. `form_key` is the page form's (app.core.form_keys):
    its second sending adds nothing and answers the first one's line."""
    agreement = await session.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound()
    await community_for(session, actor, agreement.community_id, "admin")
    key = form_keys.clean(form_key)
    find = form_keys.finder(session, AgreementTask, "created_by", actor.user_id)
    return await form_keys.once(
        session, key, find, partial(_add_task, session, actor, agreement, data, address, key)
    )


async def _add_task(
    session: AsyncSession,
    actor: Actor,
    agreement: Agreement,
    data: TaskInput,
    address: str | None,
    key: str | None,
) -> AgreementTask:
    task = _task(data, agreement.year, actor.user_id, key)
    task.agreement_id = agreement.id
    session.add(task)
    await session.flush()
    await audit.record(
        session,
        action="agreement.task_added",
        actor_id=actor.user_id,
        community_id=agreement.community_id,
        target=f"agreement:{agreement.id}",
        address=address,
        task_id=task.id,
    )
    return task


async def mark_task(
    session: AsyncSession, actor: Actor, task_id: int, done: bool, address: str | None = None
) -> AgreementTask:
    """The community's admin, or the organisation's admin, marks a task done (or not done)."""
    task = await session.get(AgreementTask, task_id)
    if task is None:
        raise NotFound()
    agreement = await session.get(Agreement, task.agreement_id)
    assert agreement is not None
    if not actor.has(agreement.community_id, "admin"):
        member = await session.scalar(
            select(OrganisationMember).where(
                OrganisationMember.organisation_id == agreement.organisation_id,
                OrganisationMember.user_id == actor.user_id,
            )
        )
        if member is None:
            raise NotFound()
        if not member.is_admin:
            raise DomainError("forbidden", 403, lazy("Only the organisation's admin can do this."))
    task.done_at = clock.now() if done else None
    task.done_by = actor.user_id if done else None
    await session.flush()
    await audit.record(
        session,
        action="agreement.task_done" if done else "agreement.task_reopened",
        actor_id=actor.user_id,
        community_id=agreement.community_id,
        target=f"agreement:{agreement.id}",
        address=address,
        task_id=task.id,
    )
    return task
