"""Organisations (partner units and providers), their members and where they may act.

The two questions other domains ask of this one (micro-wishes, the service circle):

- `may_act_in(session, organisation_id, community_id)`: may this organisation act in this
  community now? Yes in the community it was created in, and in any community with which it has
  a co-building agreement for the current year, the year read in that community's time zone.
- `organisations_of(session, user_id)`: the organisations the user is a member of (with whether
  they are its admin), so a claim or a redemption "for the unit" can be checked.

Members are linked, never taken over: a phone number that already has an account links that
user as a member only. An organisation never changes a member's name, password or cards, so
listing someone's phone here gives the organisation no power over their account (the same rule
as accounts' `belongs_here_alone`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import User
from app.accounts.services import (
    check_display_name,
    check_password_strength,
    new_account,
    normalise_phone,
)
from app.core import audit, clock
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.fields import human_text
from app.core.i18n import lazy
from app.core.uow import Sql
from app.partners import rules
from app.partners.models import Agreement, Organisation, OrganisationMember, Registration
from app.places.services import community_for


@dataclass
class MemberInput:
    phone: str
    display_name: str
    password: str | None = None


@dataclass
class OrganisationInput:
    name: str
    kinds: list[str]
    members: list[MemberInput] = field(default_factory=list)
    category: str = ""
    address: str = ""
    lat: float | None = None
    lng: float | None = None


@dataclass(frozen=True)
class MemberOf:
    """One organisation a user acts for."""

    organisation_id: int
    name: str
    kinds: tuple[str, ...]
    community_id: int
    is_admin: bool


# ---------------------------------------------------------------- the two public questions


# Whether an organisation may act in a community is migration 0034's `organisation_may_act`: its
# home community, or an agreement there for the year of `at` in the community's time zone. The
# service circle's statements ask it inline; these two ask it for pages and jobs.
_MAY_ACT = Sql("SELECT EXISTS (SELECT 1 FROM organisation_may_act(:o, :c, CAST(:now AS timestamptz)))")
_ACTING_IN = Sql(
    "SELECT x.cid FROM (SELECT community_id AS cid FROM organisations WHERE id = :o "
    "UNION SELECT community_id FROM agreements WHERE organisation_id = :o) x "
    "WHERE EXISTS (SELECT 1 FROM organisation_may_act(:o, x.cid, CAST(:now AS timestamptz))) ORDER BY x.cid"
)


async def may_act_in(session: AsyncSession, organisation_id: int, community_id: int) -> bool:
    """Whether the organisation may act in the community now: it was created there, or it has an
    agreement with the community for the current year in the community's time zone."""
    return bool(
        await _MAY_ACT.fetchval(session, {"o": organisation_id, "c": community_id, "now": clock.now()})
    )


async def acting_in(session: AsyncSession, organisation_id: int) -> list[int]:
    """The communities the organisation may act in now (may_act_in's rule for all of them at
    once): its home community and those it has an agreement with for their current year."""
    rows = await _ACTING_IN.fetch(session, {"o": organisation_id, "now": clock.now()})
    return [int(row["cid"]) for row in rows]


async def organisations_of(session: AsyncSession, user_id: int) -> list[MemberOf]:
    """The organisations the user is a member of, by name."""
    rows = (
        await session.execute(
            select(Organisation, OrganisationMember.is_admin)
            .join(OrganisationMember, OrganisationMember.organisation_id == Organisation.id)
            .where(OrganisationMember.user_id == user_id)
            .order_by(Organisation.name, Organisation.id)
        )
    ).all()
    return [
        MemberOf(org.id, org.name, tuple(org.kinds), org.community_id, bool(is_admin))
        for org, is_admin in rows
    ]


async def is_member(session: AsyncSession, organisation_id: int, user_id: int) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    OrganisationMember.organisation_id == organisation_id,
                    OrganisationMember.user_id == user_id,
                )
            )
        )
    )


async def serves_in(session: AsyncSession, user_id: int, community_id: int) -> bool:
    """Whether the user's in-service registration (双报到) with the community is confirmed."""
    return bool(
        await session.scalar(
            select(
                exists().where(
                    Registration.user_id == user_id,
                    Registration.community_id == community_id,
                    Registration.status == "confirmed",
                )
            )
        )
    )


# ---------------------------------------------------------------- organisations


def _text(value: str | None, limit: int, field_name: str, required: bool = False) -> str:
    value = " ".join(human_text(value, field=field_name, lines=True).split())
    if required and not value:
        raise Invalid(lazy("Please fill in this field."), field=field_name)
    if len(value) > limit:
        raise Invalid(lazy("This text is too long."), field=field_name, limit=limit)
    return value


async def _link_member(
    session: AsyncSession, actor: Actor, organisation: Organisation, data: MemberInput, is_admin: bool
) -> int:
    """Links the phone's account as a member, making an account only for an unknown number.
    A known account keeps its own name and password: those given here are not applied."""
    phone = normalise_phone(data.phone)
    name = check_display_name(data.display_name)
    user = await session.scalar(select(User).where(User.phone == phone))
    if user is None:
        if data.password:
            check_password_strength(data.password)
        user = await new_account(session, phone, name, data.password)
        made = True
    else:
        made = False
        if await is_member(session, organisation.id, user.id):
            raise DomainError("conflict", 409, lazy("This person is already a member of the organisation."))
    session.add(
        OrganisationMember(
            organisation_id=organisation.id, user_id=user.id, is_admin=is_admin, added_by=actor.user_id
        )
    )
    try:
        await session.flush()
    except IntegrityError as exc:
        raise DomainError(
            "conflict", 409, lazy("This person is already a member of the organisation.")
        ) from exc
    await audit.record(
        session,
        action="organisation.member_added",
        actor_id=actor.user_id,
        community_id=organisation.community_id,
        target=f"organisation:{organisation.id}",
        user_id=user.id,
        new_account=made,
        is_admin=is_admin,
    )
    return user.id


async def create_organisation(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    data: OrganisationInput,
    address: str | None = None,
) -> tuple[Organisation, list[int]]:
    """A community admin creates an organisation with its first members; the first is its admin."""
    await community_for(session, actor, community_id, "admin")
    name = _text(data.name, 100, "name", required=True)
    kinds = rules.clean_kinds(data.kinds)
    if kinds is None:
        raise Invalid(lazy("Please choose partner unit, provider or both."), field="kinds")
    if not data.members:
        raise Invalid(lazy("An organisation needs at least one member."), field="members")
    if (data.lat is None) != (data.lng is None):
        # Half a place is none: the service circle could measure no distance from it.
        raise Invalid(lazy("Please give both the latitude and the longitude, or neither."), field="lat")
    phones = [normalise_phone(m.phone) for m in data.members]
    if len(set(phones)) != len(phones):
        raise Invalid(lazy("The same phone number is listed twice."), field="members")
    if await session.scalar(
        select(Organisation.id).where(Organisation.community_id == community_id, Organisation.name == name)
    ):
        raise DomainError("conflict", 409, lazy("An organisation with this name already exists here."))
    organisation = Organisation(
        community_id=community_id,
        name=name,
        kinds=kinds,
        category=_text(data.category, 50, "category"),
        address=_text(data.address, 200, "address"),
        lat=data.lat,
        lng=data.lng,
        created_by=actor.user_id,
    )
    session.add(organisation)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise DomainError("conflict", 409) from exc
    await audit.record(
        session,
        action="organisation.created",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"organisation:{organisation.id}",
        address=address,
        kinds=kinds,
    )
    user_ids = [
        await _link_member(session, actor, organisation, member, is_admin=index == 0)
        for index, member in enumerate(data.members)
    ]
    return organisation, user_ids


async def organisation_for(
    session: AsyncSession, actor: Actor, organisation_id: int, *, admin: bool = False
) -> Organisation:
    """An organisation the actor acts for (as its admin if `admin`), or whose home community the
    actor administers; others are not found alike."""
    organisation = await session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound()
    if actor.has(organisation.community_id, "admin"):
        return organisation
    membership = await session.scalar(
        select(OrganisationMember).where(
            OrganisationMember.organisation_id == organisation_id,
            OrganisationMember.user_id == actor.user_id,
        )
    )
    if membership is None:
        raise NotFound()
    if admin and not membership.is_admin:
        raise Forbidden(lazy("Only the organisation's admin can do this."))
    return organisation


async def add_member(
    session: AsyncSession,
    actor: Actor,
    organisation_id: int,
    data: MemberInput,
    address: str | None = None,
) -> int:
    """The organisation's admin (or its community's admin) adds a member."""
    organisation = await organisation_for(session, actor, organisation_id, admin=True)
    return await _link_member(session, actor, organisation, data, is_admin=False)


async def remove_member(
    session: AsyncSession,
    actor: Actor,
    organisation_id: int,
    user_id: int,
    address: str | None = None,
) -> None:
    """The organisation's admin (or its community's admin) removes a member, who from then on acts
    for it no more: no claim, no hand-over, no redemption, no office page (membership is read
    afresh by every request). Their account, points and cards stay their own. The organisation
    keeps at least one admin."""
    organisation, member = await _member_locked(session, actor, organisation_id, user_id)
    if member.is_admin and await _admins(session, organisation_id) <= 1:
        raise DomainError("conflict", 409, LAST_ADMIN)
    await session.delete(member)
    await session.flush()
    await audit.record(
        session,
        action="organisation.member_removed",
        actor_id=actor.user_id,
        community_id=organisation.community_id,
        target=f"organisation:{organisation.id}",
        address=address,
        user_id=user_id,
        was_admin=member.is_admin,
    )


async def make_admin(
    session: AsyncSession,
    actor: Actor,
    organisation_id: int,
    user_id: int,
    address: str | None = None,
) -> None:
    """The organisation's admin (or its community's admin) makes a member an admin of it too, so
    that an admin who leaves can hand over first."""
    organisation, member = await _member_locked(session, actor, organisation_id, user_id)
    if member.is_admin:
        return
    member.is_admin = True
    await session.flush()
    await audit.record(
        session,
        action="organisation.admin_made",
        actor_id=actor.user_id,
        community_id=organisation.community_id,
        target=f"organisation:{organisation.id}",
        address=address,
        user_id=user_id,
    )


LAST_ADMIN = lazy("The organisation's only admin cannot be removed: make another member an admin first.")


async def _member_locked(
    session: AsyncSession, actor: Actor, organisation_id: int, user_id: int
) -> tuple[Organisation, OrganisationMember]:
    """The organisation and the membership, once the organisation's row is locked and the actor's
    right to manage its members is checked under that lock: changes of one organisation's members
    take turns, so two admins removing each other at once cannot leave it with none (the second
    finds it no longer acts for the organisation)."""
    await session.execute(select(Organisation.id).where(Organisation.id == organisation_id).with_for_update())
    organisation = await organisation_for(session, actor, organisation_id, admin=True)
    member = await session.scalar(
        select(OrganisationMember).where(
            OrganisationMember.organisation_id == organisation_id, OrganisationMember.user_id == user_id
        )
    )
    if member is None:
        raise NotFound()
    return organisation, member


async def _admins(session: AsyncSession, organisation_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count()).where(
                OrganisationMember.organisation_id == organisation_id, OrganisationMember.is_admin
            )
        )
        or 0
    )


async def members_of(session: AsyncSession, organisation_id: int) -> list[tuple[int, str, bool]]:
    """(user id, display name, is admin) of each member; never a phone number."""
    rows = (
        await session.execute(
            select(User.id, User.display_name, OrganisationMember.is_admin)
            .join(OrganisationMember, OrganisationMember.user_id == User.id)
            .where(OrganisationMember.organisation_id == organisation_id)
            .order_by(OrganisationMember.id)
        )
    ).all()
    return [(row[0], row[1], bool(row[2])) for row in rows]


async def community_organisations(
    session: AsyncSession, actor: Actor, community_id: int
) -> list[Organisation]:
    """The organisations created in the community or with an agreement there (any year)."""
    await community_for(session, actor, community_id, "admin", "staff", "grid_worker")
    with_agreement = select(Agreement.organisation_id).where(Agreement.community_id == community_id)
    return list(
        (
            await session.scalars(
                select(Organisation)
                .where((Organisation.community_id == community_id) | Organisation.id.in_(with_agreement))
                .order_by(Organisation.name, Organisation.id)
            )
        ).all()
    )
