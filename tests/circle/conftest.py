"""Service-circle fixtures: a community (军门社区-like) with an admin, a grid worker, residents
living in a compound with a known location, two providers with one member each, and helpers that
go through the API."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core.uow import connection_of
from app.ledger import services as ledger
from tests.conftest import Factory, Person, Tenant, login, unique, unique_phone

# 联邦新城 in 军门社区, Gulou, Fuzhou.
HOME = (26.0822, 119.2961)


@dataclass
class Circle:
    tenant: Tenant
    admin: Person
    grid: Person
    resident: Person
    neighbour: Person
    barber_id: int
    barber: Person  # the barber's admin and only member
    cleaner_id: int
    cleaner: Person

    @property
    def community_id(self) -> int:
        return self.tenant.community_id


async def give_points(engine: Any, community_id: int, user_id: int, points: int) -> None:
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        await ledger.award(
            await connection_of(s),
            community_id=community_id,
            user_id=user_id,
            points=points,
            kind="award",
            reference="test",
            memo="",
            actor_id=None,
            idempotency_key=f"test:{secrets.token_hex(8)}",
        )


async def make_provider(
    client: Any, tenant: Tenant, admin: Person, name: str, category: str, lat: float | None, lng: float | None
) -> tuple[int, Person]:
    member = Person(0, unique_phone(), "member-pass-1", f"{name}店员")
    body = {
        "name": unique(name),
        "kinds": ["provider"],
        "category": category,
        "address": "鼓楼区",
        "lat": lat,
        "lng": lng,
        "members": [
            {"phone": member.phone, "display_name": member.display_name, "password": member.password}
        ],
    }
    response = await client.post(
        f"/api/v1/communities/{tenant.community_id}/organisations", json=body, headers=admin.headers
    )
    assert response.status_code == 201, response.text
    member.user_id = response.json()["member_user_ids"][0]
    await login(client, member)
    return int(response.json()["id"]), member


async def live_in(
    engine: Any, community_id: int, user_ids: list[int], at: tuple[float, float] | None
) -> None:
    """Puts the people in a compound of the community at `at`."""
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        compound_id = await s.scalar(
            text(
                "INSERT INTO compounds (community_id, name, address, households, lat, lng, created_at) "
                "VALUES (:c, :n, '', 0, :lat, :lng, now()) RETURNING id"
            ),
            {
                "c": community_id,
                "n": unique("联邦新城"),
                "lat": at[0] if at else None,
                "lng": at[1] if at else None,
            },
        )
        await s.execute(
            text("UPDATE memberships SET compound_id = :k WHERE community_id = :c AND user_id = ANY(:u)"),
            {"k": compound_id, "c": community_id, "u": user_ids},
        )


@pytest.fixture
async def circle(client: Any, factory: Factory, engine: Any) -> Circle:
    tenant = await factory.tenant()
    admin = await login(client, tenant.admin)
    grid = await login(client, await factory.person(tenant, roles=["grid_worker"], name="林网格"))
    resident = await login(client, await factory.person(tenant, name="郑美玉"))
    neighbour = await login(client, await factory.person(tenant, name="黄志强"))
    barber_id, barber = await make_provider(client, tenant, admin, "老街理发", "barber", 26.0840, 119.2975)
    cleaner_id, cleaner = await make_provider(
        client, tenant, admin, "树人家政", "housekeeping", 26.0900, 119.3050
    )
    await live_in(engine, tenant.community_id, [resident.user_id, neighbour.user_id], HOME)
    return Circle(tenant, admin, grid, resident, neighbour, barber_id, barber, cleaner_id, cleaner)


async def make_offer(client: Any, circle: Circle, organisation_id: int | None = None, **fields: Any) -> int:
    body = {"name": unique("理发"), "points_price": 20, **fields}
    response = await client.post(
        f"/api/v1/organisations/{organisation_id or circle.barber_id}/offers",
        json=body,
        headers=circle.admin.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "active"
    return int(response.json()["id"])


async def buy(client: Any, person: Person, offer_id: int, key: str | None = None) -> Any:
    return await client.post(
        "/api/v1/vouchers",
        json={"offer_id": offer_id, "idempotency_key": key or secrets.token_hex(8)},
        headers=person.headers,
    )
