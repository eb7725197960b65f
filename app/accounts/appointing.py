"""A community's admins, as the street admin above it sees and appoints them.

A community a street admin creates has no admin, and nobody in it can make one: the street
admin appoints its first admin (and any other) from the street's people, found by name or phone
among the members of the street's communities, or registered by phone as the residents form
does (a phone that already has an account names that person; their name and password stay
theirs; an account outside the street's communities is appointed only when the name typed is
the one it is registered under, so the page names nobody the street admin could not name).
Appointing adds the admin role to the person's membership of the community, or makes the
membership; someone already its admin is left as they are, so a second sending changes
nothing. Every appointment is audited. The community's own admins change roles on its residents'
pages (app.accounts.services.set_roles)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts import people
from app.accounts.models import Membership, User, is_admin
from app.accounts.services import check_display_name, check_password_strength, new_account, normalise_phone
from app.core import audit, paging
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid, NotFound
from app.core.i18n import lazy
from app.places.models import Community, Street
from app.places.services import community_for

# The street's people found by a search, a page at a time.
PEOPLE_PAGE = 20
CHOOSE_SOMEONE = lazy("Choose a person from the search, or give the phone number and name of a new one.")
NAME_TO_MATCH = lazy(
    "This phone number has an account outside the street's communities. Type the person's name as "
    "they registered it (ask them) to make them admin."
)


@dataclass(frozen=True)
class Admin:
    user_id: int
    display_name: str


@dataclass(frozen=True)
class Found:
    """A person of the street found by a search: their name, the communities they belong to and
    the last four digits of their phone, to tell two of one name apart."""

    user_id: int
    display_name: str
    communities: list[str]
    phone_tail: str
    admin_here: bool


@dataclass
class FoundPage:
    people: list[Found]
    total: int
    page: int
    pages: int


async def street_community(
    session: AsyncSession, actor: Actor, community_id: int, street_id: int | None = None
) -> Community:
    """A community of one of the actor's streets (of `street_id`, where a page's address names
    it); any other is not found, as a street that is not theirs."""
    community = await session.get(Community, community_id)
    if community is None or community.street_id not in actor.street_ids:
        raise NotFound()
    if street_id is not None and community.street_id != street_id:
        raise NotFound()
    return community


async def street_of(session: AsyncSession, actor: Actor, street_id: int) -> Street:
    street = await session.get(Street, street_id)
    if street is None or street_id not in actor.street_ids:
        raise NotFound()
    return street


async def admins_of(session: AsyncSession, community_ids: list[int]) -> dict[int, list[Admin]]:
    """Each community's admins by name, read from the index of admins (migration 0053)."""
    if not community_ids:
        return {}
    rows = await session.execute(
        select(Membership.community_id, Membership.user_id, Membership.display_name)
        .where(Membership.community_id.in_(community_ids), is_admin())
        .order_by(Membership.community_id, *people.BY_NAME)
    )
    found: dict[int, list[Admin]] = {cid: [] for cid in community_ids}
    for community_id, user_id, name in rows.all():
        found[community_id].append(Admin(user_id, name))
    return found


async def admins_for(session: AsyncSession, actor: Actor, community_id: int) -> list[Admin]:
    """The community's admins, for the street admin above it and for its own admins and staff."""
    await community_for(session, actor, community_id, "admin", "staff", "street_admin")
    return (await admins_of(session, [community_id]))[community_id]


async def _street_communities(session: AsyncSession, street_id: int) -> dict[int, str]:
    rows = await session.execute(
        select(Community.id, Community.name).where(Community.street_id == street_id).order_by(Community.name)
    )
    return {community_id: name for community_id, name in rows.all()}


async def street_people(
    session: AsyncSession, actor: Actor, street_id: int, community_id: int, who: str, page: int
) -> FoundPage:
    """The street's people whom `who` finds by name or phone (app.accounts.people), a page at a
    time by name; nobody before a search (a street has tens of thousands)."""
    await street_community(session, actor, community_id, street_id)
    who = who.strip()
    if not who:
        return FoundPage([], 0, 1, 1)
    communities = await _street_communities(session, street_id)
    ids = sorted(communities)
    matching = people.found_by_name_or_phone(ids, who)
    total = int(
        await session.scalar(
            select(func.count(func.distinct(Membership.user_id))).where(
                Membership.community_id.in_(ids), matching
            )
        )
        or 0
    )
    at = paging.window(total, page, PEOPLE_PAGE)
    rows = await session.execute(
        select(
            Membership.user_id,
            func.min(Membership.display_name).label("name"),
            func.array_agg(Membership.community_id).label("communities"),
        )
        .where(Membership.community_id.in_(ids), matching)
        .group_by(Membership.user_id)
        .order_by(func.min(Membership.display_name), Membership.user_id)
        .limit(PEOPLE_PAGE)
        .offset(at.offset)
    )
    found = rows.all()
    phones = dict(
        (
            await session.execute(select(User.id, User.phone).where(User.id.in_([r.user_id for r in found])))
        ).all()
    )
    admins = set(
        (
            await session.scalars(
                select(Membership.user_id).where(
                    Membership.community_id == community_id,
                    Membership.user_id.in_([r.user_id for r in found]),
                    is_admin(),
                )
            )
        ).all()
    )
    return FoundPage(
        [
            Found(
                r.user_id,
                r.name,
                sorted(communities[c] for c in r.communities),
                (phones.get(r.user_id) or "")[-4:],
                r.user_id in admins,
            )
            for r in found
        ],
        total,
        at.number,
        at.pages,
    )


@dataclass
class NewPerson:
    phone: str
    display_name: str
    password: str = ""


async def appoint(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    *,
    user_id: int | None = None,
    person: NewPerson | None = None,
    address: str | None = None,
) -> tuple[User, bool]:
    """Makes a person the community's admin: one of the street's people (`user_id`), or the
    holder of a phone number, registered when it has no account (`person`). Returns the person
    and whether they were made its admin now (False: they already were)."""
    community = await street_community(session, actor, community_id)
    street_id = community.street_id
    if user_id is not None:
        user = await session.get(User, user_id)
        of_street = exists().where(
            Membership.user_id == user_id,
            Membership.community_id.in_(select(Community.id).where(Community.street_id == street_id)),
        )
        if user is None or not await session.scalar(select(of_street)):
            raise NotFound()
    elif person is not None and (person.phone or "").strip():
        phone = normalise_phone(person.phone)
        found = await session.scalar(select(User).where(User.phone == phone))
        if found is not None and (person.display_name or "").strip() != found.display_name:
            # Someone of another street is named to nobody: the street admin must know the name
            # the number is registered under, or the page would tell any account's name.
            of_street = exists().where(
                Membership.user_id == found.id,
                Membership.community_id.in_(select(Community.id).where(Community.street_id == street_id)),
            )
            if not await session.scalar(select(of_street)):
                raise Invalid(NAME_TO_MATCH, field="display_name")
        if found is None:
            name = check_display_name(person.display_name)
            if person.password:
                check_password_strength(person.password)
            try:
                async with session.begin_nested():
                    found = await new_account(session, phone, name, person.password or None)
            except DomainError:
                # The number registered at the same moment (a double tap): that account is the one.
                found = await session.scalar(select(User).where(User.phone == phone))
                if found is None:
                    raise
        user = found
    else:
        raise Invalid(CHOOSE_SOMEONE, field="user_id")
    membership = await session.scalar(
        select(Membership)
        .where(Membership.community_id == community.id, Membership.user_id == user.id)
        .with_for_update()
    )
    before = list(membership.roles) if membership is not None else []
    if "admin" in before:
        return user, False
    if membership is None:
        try:
            async with session.begin_nested():
                session.add(
                    Membership(
                        user_id=user.id, community_id=community.id, roles=["admin"], added_by=actor.user_id
                    )
                )
        except IntegrityError:
            # The person made a member at the same moment (a double tap): that membership is read
            # again, and its admin left as it is.
            return await appoint(session, actor, community_id, user_id=user.id, address=address)
    else:
        membership.roles = [*before, "admin"]
        await session.flush()
    await audit.record(
        session,
        action="community.admin_appointed",
        actor_id=actor.user_id,
        community_id=community.id,
        target=f"user:{user.id}",
        address=address,
        before=before,
        after=[*before, "admin"],
    )
    return user, True
