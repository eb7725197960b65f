"""In-service registration (在职党员双报到): a member of a community names the unit they work for
and registers with the community where they live; its admin confirms. Once confirmed, their hours
in that community count for their unit's agreement with it (app.partners.agreements)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import any_, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.core import audit, clock
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, NotFound
from app.core.i18n import lazy
from app.partners.models import Organisation, Registration
from app.places.services import community_for


async def work_units(session: AsyncSession) -> list[Organisation]:
    """The partner units a person may name as their work unit."""
    return list(
        (
            await session.scalars(
                select(Organisation)
                .where(literal("partner") == any_(Organisation.kinds))
                .order_by(Organisation.name, Organisation.id)
            )
        ).all()
    )


async def register(
    session: AsyncSession, actor: Actor, community_id: int, organisation_id: int, address: str | None = None
) -> Registration:
    """The actor registers with a community they belong to, naming their work unit. A refused
    registration may be made again; a pending or confirmed one is not repeated."""
    if not actor.is_member(community_id):
        raise Forbidden(lazy("You can register only with a community you belong to."))
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None or "partner" not in organisation.kinds:
        raise NotFound()
    registration = await session.scalar(
        select(Registration)
        .where(Registration.user_id == actor.user_id, Registration.community_id == community_id)
        .with_for_update()
    )
    if registration is not None and registration.status != "rejected":
        raise DomainError("already_done", 409, lazy("You have already registered with this community."))
    if registration is None:
        registration = Registration(user_id=actor.user_id, community_id=community_id)
        session.add(registration)
    registration.organisation_id = organisation_id
    registration.status = "pending"
    registration.decided_at = None
    registration.decided_by = None
    try:
        await session.flush()
    except IntegrityError as exc:  # a twin registration committed first
        raise DomainError(
            "already_done", 409, lazy("You have already registered with this community.")
        ) from exc
    await audit.record(
        session,
        action="registration.made",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"registration:{registration.id}",
        address=address,
        organisation_id=organisation_id,
    )
    return registration


async def decide(
    session: AsyncSession, actor: Actor, registration_id: int, confirm: bool, address: str | None = None
) -> Registration:
    registration = await session.scalar(
        select(Registration).where(Registration.id == registration_id).with_for_update()
    )
    if registration is None:
        raise NotFound()
    await community_for(session, actor, registration.community_id, "admin")
    if registration.status != "pending":
        raise DomainError("already_done", 409, lazy("This registration has already been decided."))
    registration.status = "confirmed" if confirm else "rejected"
    registration.decided_at = clock.now()
    registration.decided_by = actor.user_id
    await session.flush()
    await audit.record(
        session,
        action="registration.confirmed" if confirm else "registration.rejected",
        actor_id=actor.user_id,
        community_id=registration.community_id,
        target=f"registration:{registration.id}",
        address=address,
    )
    return registration


@dataclass
class RegistrationRow:
    registration: Registration
    person: str
    organisation: str


async def registrations_of(session: AsyncSession, actor: Actor, community_id: int) -> list[RegistrationRow]:
    """For the community's admins and staff: pending ones first, then the rest, newest first."""
    await community_for(session, actor, community_id, "admin", "staff")
    rows = (
        await session.execute(
            select(Registration, User.display_name, Organisation.name)
            .join(User, User.id == Registration.user_id)
            .join(Organisation, Organisation.id == Registration.organisation_id)
            .where(Registration.community_id == community_id)
            .order_by(
                (Registration.status != "pending"), Registration.created_at.desc(), Registration.id.desc()
            )
        )
    ).all()
    return [RegistrationRow(r, person, org) for r, person, org in rows]


async def mine(session: AsyncSession, actor: Actor) -> list[tuple[Registration, str]]:
    rows = (
        await session.execute(
            select(Registration, Organisation.name)
            .join(Organisation, Organisation.id == Registration.organisation_id)
            .where(Registration.user_id == actor.user_id)
            .order_by(Registration.community_id)
        )
    ).all()
    return [(r, name) for r, name in rows]
