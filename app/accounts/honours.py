"""邻里一家亲 (neighbourly family): an honour a community's admin awards to a household for a year.
A household is an address as a membership has it (compound, building, room), so the honour
belongs to everyone registered there and stays with the address; a resident with no compound
on record has no household to honour yet. Shown on the resident's page for staff, on the home
page of the household's members, and on the public results wall (app.core.wall) by compound,
building and year only: no room, no name, and not the admin's note, which may name someone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.accounts.models import HouseholdHonour, Membership
from app.accounts.services import membership_for
from app.core import audit, clock, homes, wall
from app.core.authz import Actor
from app.core.errors import DomainError, Invalid, NotFound
from app.core.i18n import lazy
from app.places.models import Building, Compound

NAME = lazy("Neighbourly family (邻里一家亲)")
NO_HOUSEHOLD = lazy("Record this resident's compound first: an honour goes to a household's address.")
YEAR = lazy("%(year)s honour")  # a line of the home page's honours card, under its name
ALREADY = lazy("This household already holds the honour for that year.")


@dataclass(frozen=True)
class Honour:
    id: int
    year: int
    note: str
    place: str  # compound and building, never the room


def _same_household(membership: Membership) -> list[Any]:
    return [
        HouseholdHonour.community_id == membership.community_id,
        HouseholdHonour.compound_id == membership.compound_id,
        func.coalesce(HouseholdHonour.building_id, 0) == (membership.building_id or 0),
        HouseholdHonour.room == (membership.room or ""),
    ]


async def _rows(session: AsyncSession, *where: Any, limit: int | None = None) -> list[Honour]:
    rows = await session.execute(
        select(HouseholdHonour, Compound.name, Building.name)
        .join(Compound, Compound.id == HouseholdHonour.compound_id)
        .outerjoin(Building, Building.id == HouseholdHonour.building_id)
        .where(*where)
        .order_by(HouseholdHonour.year.desc(), HouseholdHonour.id.desc())
        .limit(limit)
    )
    return [
        Honour(h.id, h.year, h.note, " ".join(part for part in (compound, building) if part))
        for h, compound, building in rows.all()
    ]


async def of_household(session: AsyncSession, membership: Membership) -> list[Honour]:
    if membership.compound_id is None:
        return []
    return await _rows(session, *_same_household(membership))


async def of_member(session: AsyncSession, community_id: int, user_id: int) -> list[Honour]:
    membership = await session.scalar(
        select(Membership).where(Membership.community_id == community_id, Membership.user_id == user_id)
    )
    return await of_household(session, membership) if membership is not None else []


# The results wall names this many honoured households, the newest year first, and says of how many.
WALL_SHOWN = 50


async def public_list(session: AsyncSession, community_id: int, limit: int = WALL_SHOWN) -> list[Honour]:
    """The community's honoured households, newest year first: compound and building only."""
    return await _rows(session, HouseholdHonour.community_id == community_id, limit=limit)


async def count_honoured(session: AsyncSession, community_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(HouseholdHonour)
            .where(HouseholdHonour.community_id == community_id)
        )
        or 0
    )


async def award(
    session: AsyncSession,
    actor: Actor,
    community_id: int,
    user_id: int,
    year: int | None,
    note: str,
    address: str | None = None,
) -> HouseholdHonour:
    """The admin honours the household of `user_id` for `year`; once a year per household."""
    _user, membership = await membership_for(session, actor, community_id, user_id, "admin")
    if membership.compound_id is None:
        raise Invalid(NO_HOUSEHOLD, field="year")
    this_year = clock.today().year
    if year is None or not 2000 <= year <= this_year + 1:
        raise Invalid(lazy("Choose a year up to next year."), field="year")
    note = (note or "").strip()
    if len(note) > 200:
        raise Invalid(lazy("Please keep the note under 200 characters."), field="note")
    honour = HouseholdHonour(
        community_id=community_id,
        compound_id=membership.compound_id,
        building_id=membership.building_id,
        room=membership.room or "",
        year=year,
        note=note,
        awarded_by=actor.user_id,
    )
    try:
        async with session.begin_nested():
            session.add(honour)
            await session.flush()
    except IntegrityError:
        raise DomainError("already_done", 409, ALREADY) from None
    await audit.record(
        session,
        action="household.honour",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"honour:{honour.id}",
        address=address,
        user_id=user_id,
        year=year,
    )
    return honour


async def revoke(
    session: AsyncSession, actor: Actor, community_id: int, honour_id: int, address: str | None = None
) -> None:
    actor.require(community_id, "admin")
    honour = await session.get(HouseholdHonour, honour_id)
    if honour is None or honour.community_id != community_id:
        raise NotFound()
    await session.delete(honour)
    await session.flush()
    await audit.record(
        session,
        action="household.honour_revoked",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"honour:{honour_id}",
        address=address,
        year=honour.year,
    )


@homes.part
async def home(session: AsyncSession, actor: Actor, community: Any) -> homes.HomePart:
    """A household's members find their honours on their home page (each year a line, linked to
    the community's results wall)."""
    part = homes.HomePart()
    found = await of_member(session, community.id, actor.user_id)
    if found:
        entries = [
            homes.Entry(YEAR, h.note, f"/c/{community.id}/wall", words={"year": h.year}) for h in found
        ]
        part.panels.append(homes.Panel("honours", NAME, entries, order=60))
    return part


@wall.section
async def wall_section(session: AsyncSession, community_id: int) -> wall.Section | None:
    found = await public_list(session, community_id, WALL_SHOWN)
    return wall.Section(
        "honours",
        NAME,
        [wall.Entry(h.place, str(h.year)) for h in found],
        note=lazy("Households the community honoured for helping their neighbours."),
        order=20,
        total=await count_honoured(session, community_id) if len(found) == WALL_SHOWN else None,
    )
