"""Places: street → community → compound → building."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit, clock
from app.core.authz import Actor
from app.core.errors import DomainError, Forbidden, Invalid, NotFound
from app.core.fields import human_text
from app.core.i18n import lazy
from app.core.security import random_code
from app.places.models import Building, Community, Compound, Street


def _name(value: str, field: str = "name") -> str:
    value = human_text((value or "").strip(), field=field)
    if not value or len(value) > 100:
        raise Invalid(lazy("Please enter a name of 1 to 100 characters."), field=field)
    return value


async def ensure_street(session: AsyncSession, name: str, district: str = "") -> Street:
    name = _name(name)
    street = await session.scalar(select(Street).where(Street.name == name))
    if street is None:
        street = Street(name=name, district=district)
        session.add(street)
        await session.flush()
    return street


async def ensure_community(
    session: AsyncSession, street: Street, name: str, join_code: str | None = None
) -> Community:
    name = _name(name)
    community = await session.scalar(
        select(Community).where(Community.street_id == street.id, Community.name == name)
    )
    if community is None:
        community = Community(street_id=street.id, name=name, join_code=join_code or random_code(8))
        session.add(community)
        await session.flush()
    return community


COMMUNITY_EXISTS = lazy("A community with this name already exists.")


async def create_community(session: AsyncSession, actor: Actor, street_id: int, name: str) -> Community:
    if street_id not in actor.street_ids:
        raise Forbidden()
    street = await session.get(Street, street_id)
    if street is None:
        raise NotFound()
    name = _name(name)
    if await session.scalar(
        select(Community.id).where(Community.street_id == street_id, Community.name == name)
    ):
        raise DomainError("conflict", 409, COMMUNITY_EXISTS)
    community = Community(street_id=street.id, name=name, join_code=random_code(8))
    session.add(community)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same name created at the same moment (a double tap)
        raise DomainError("conflict", 409, COMMUNITY_EXISTS) from exc
    await audit.record(
        session,
        action="community.created",
        actor_id=actor.user_id,
        community_id=community.id,
        target=f"community:{community.id}",
    )
    return community


async def time_zone_of(session: AsyncSession, community_id: int) -> str:
    """The community's time zone (app.core.clock reads dates and times in it)."""
    name = await session.scalar(select(Community.time_zone).where(Community.id == community_id))
    return name or clock.DEFAULT_ZONE


async def time_zones_of(session: AsyncSession, community_ids: set[int]) -> dict[int, str]:
    """The time zones of several communities in one statement, by id (a page of lines from
    many communities shows each line's time in its own community's zone)."""
    if not community_ids:
        return {}
    rows = await session.execute(
        select(Community.id, Community.time_zone).where(Community.id.in_(sorted(community_ids)))
    )
    return {cid: name or clock.DEFAULT_ZONE for cid, name in rows.all()}


async def set_time_zone(session: AsyncSession, actor: Actor, community_id: int, name: str) -> Community:
    actor.require(community_id, "admin")
    community = await session.get(Community, community_id)
    if community is None:
        raise NotFound()
    name = (name or "").strip()
    if not clock.is_zone(name):
        raise Invalid(lazy("Please choose a time zone from the list."), field="time_zone")
    before, community.time_zone = community.time_zone, name
    await session.flush()
    await audit.record(
        session,
        action="community.time_zone",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"community:{community_id}",
        before=before,
        after=name,
    )
    return community


async def compound_in(session: AsyncSession, community_id: int, compound_id: int) -> Compound:
    compound = await session.get(Compound, compound_id)
    if compound is None or compound.community_id != community_id:
        raise NotFound()
    return compound


async def building_in(session: AsyncSession, community_id: int, building_id: int) -> Building:
    building = await session.get(Building, building_id)
    if building is None or building.community_id != community_id:
        raise NotFound()
    return building


def _households(value: str | int | None) -> int:
    try:
        number = int(value or 0)
    except (TypeError, ValueError) as exc:
        raise Invalid(lazy("Households must be a whole number."), field="households") from exc
    if not 0 <= number <= 100_000:
        raise Invalid(lazy("Households must be between 0 and 100000."), field="households")
    return number


async def save_compound(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    *,
    name: str,
    address: str = "",
    households: str | int | None = 0,
    compound_id: int | None = None,
) -> Compound:
    actor.require(community_id, "admin")
    if compound_id is None:
        compound = Compound(community_id=community_id)
        session.add(compound)
    else:
        compound = await compound_in(session, community_id, compound_id)
    compound.name = _name(name)
    compound.address = human_text((address or "").strip()[:200], field="address")
    compound.households = _households(households)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise DomainError("conflict", 409, lazy("A compound with this name already exists.")) from exc
    await audit.record(
        session,
        action="compound.saved",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"compound:{compound.id}",
        name=compound.name,
    )
    return compound


async def save_building(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    *,
    compound_id: int,
    name: str,
    leader_name: str = "",
    building_id: int | None = None,
) -> Building:
    actor.require(community_id, "admin")
    compound = await compound_in(session, community_id, compound_id)
    if building_id is None:
        building = Building(community_id=community_id, compound_id=compound.id)
        session.add(building)
    else:
        building = await building_in(session, community_id, building_id)
    building.name = _name(name)
    building.leader_name = human_text((leader_name or "").strip()[:100], field="leader_name")
    try:
        await session.flush()
    except IntegrityError as exc:
        raise DomainError("conflict", 409, lazy("A building with this name already exists.")) from exc
    await audit.record(
        session,
        action="building.saved",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"building:{building.id}",
        name=building.name,
    )
    return building


async def places_of(session: AsyncSession, community_id: int) -> list[tuple[Compound, list[Building]]]:
    compounds = (
        await session.scalars(
            select(Compound).where(Compound.community_id == community_id).order_by(Compound.name)
        )
    ).all()
    buildings = (
        await session.scalars(
            select(Building).where(Building.community_id == community_id).order_by(Building.name)
        )
    ).all()
    by_compound: dict[int, list[Building]] = {}
    for b in buildings:
        by_compound.setdefault(b.compound_id, []).append(b)
    return [(c, by_compound.get(c.id, [])) for c in compounds]


async def community_for(session: AsyncSession, actor: Actor, community_id: int, *roles: str) -> Community:
    """Loads a community the actor may act in with one of `roles`; others are refused alike."""
    community = await session.get(Community, community_id)
    if community is None:
        raise NotFound()
    actor.require(community_id, *roles)
    return community
