"""What the service circle asks of organisations of kind `provider` (through
app.core.organisations, filled by the assembly): their facts, those that may act in a community,
the organisations a user acts for, and setting where one is. On a session or on a request's
asyncpg connection alike (app.core.uow.Sql)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit
from app.core.organisations import ProviderRef
from app.core.uow import Sql

_COLUMNS = "o.id, o.community_id, o.name, o.category, o.address, o.lat, o.lng"
_BY_IDS = Sql(
    f"SELECT {_COLUMNS} FROM organisations o WHERE o.id = ANY(:ids) AND 'provider' = ANY(o.kinds)"  # noqa: S608
)
# Created in the community, or with an agreement there for the current year (the community's):
# migration 0034's `organisation_may_act`, which the service circle's purchase reads too.
_IN_COMMUNITY = Sql(
    f"SELECT {_COLUMNS} FROM organisations o WHERE 'provider' = ANY(o.kinds) "  # noqa: S608
    "AND EXISTS (SELECT 1 FROM organisation_may_act(o.id, :c, now())) ORDER BY o.name, o.id"
)
# Migration 0034's `organisation_acted_for`, which a voucher's redemption reads in its statement.
_ACTS_FOR = Sql("SELECT organisation_id, is_admin FROM organisation_acted_for(:u)")
_SET_PLACE = Sql(
    "UPDATE organisations SET address = :a, lat = :lat, lng = :lng, category = coalesce(:cat, category) "
    "WHERE id = :o RETURNING community_id"
)


def _ref(row: Any) -> ProviderRef:
    return ProviderRef(
        id=int(row[0]),
        community_id=int(row[1]),
        name=str(row[2]),
        category=str(row[3] or ""),
        address=str(row[4] or ""),
        lat=row[5],
        lng=row[6],
    )


async def providers(db: Any, ids: list[int]) -> dict[int, ProviderRef]:
    return {int(row[0]): _ref(row) for row in await _BY_IDS.fetch(db, {"ids": list(ids)})}


async def providers_in(db: Any, community_id: int) -> list[ProviderRef]:
    return [_ref(row) for row in await _IN_COMMUNITY.fetch(db, {"c": community_id})]


async def acts_for(db: Any, user_id: int) -> dict[int, bool]:
    return {int(row[0]): bool(row[1]) for row in await _ACTS_FOR.fetch(db, {"u": user_id})}


async def set_place(
    session: AsyncSession,
    actor_id: int,
    organisation_id: int,
    address: str,
    lat: float | None,
    lng: float | None,
    *,
    category: str | None = None,
) -> None:
    """Where an organisation is, and its category unless None (kept as it is then)."""
    shown = None if category is None else " ".join(category.split())[:50]
    community_id = await _SET_PLACE.fetchval(
        session,
        {"a": " ".join(address.split())[:200], "lat": lat, "lng": lng, "cat": shown, "o": organisation_id},
    )
    if community_id is not None:
        await audit.record(
            session,
            action="organisation.place_set",
            actor_id=actor_id,
            community_id=int(community_id),
            target=f"organisation:{organisation_id}",
            lat=lat,
            lng=lng,
            category=shown,
        )
