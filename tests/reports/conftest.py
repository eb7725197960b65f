"""Reports fixtures: a community whose figures the test knows because it made every row behind
them (through the API where the app offers a way, straight into the tables for past events and
stays, whose times the test must choose), beside a second community of the same street and one of
another street whose rows must never leak in."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import clock
from tests.conftest import Factory, Person, Tenant, login

ZONE = "Asia/Shanghai"


@dataclass
class Town:
    tenant: Tenant
    admin: Person
    street_admin: Person
    resident: Person
    people: dict[str, Person]
    first: date
    last: date
    neighbour_id: int  # a second community of the same street
    expected: dict[str, Any] = field(default_factory=dict)

    @property
    def community_id(self) -> int:
        return self.tenant.community_id

    @property
    def query(self) -> str:
        return f"from={self.first.isoformat()}&to={self.last.isoformat()}"


async def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def _award(
    client: Any, admin: Person, cid: int, user_id: int, points: int, path: str = "awards"
) -> None:
    await _ok(
        await client.post(
            f"/api/v1/communities/{cid}/{path}",
            json={
                "user_id": user_id,
                "points": points,
                "reason": "测试",
                "idempotency_key": secrets.token_hex(8),
            },
            headers=admin.headers,
        )
    )


async def _sql(engine: Any, statement: str, **params: Any) -> Any:
    async with async_sessionmaker(engine)() as s, s.begin():
        return (await s.execute(text(statement), params)).scalar()


async def _event(engine: Any, cid: int, category: str, starts: datetime, status: str = "open") -> int:
    return int(
        await _sql(
            engine,
            "INSERT INTO events (community_id, title, category, starts_at, ends_at, status) "
            "VALUES (:c, :t, :k, :s, :e, :st) RETURNING id",
            c=cid,
            t=f"{category} {secrets.token_hex(3)}",
            k=category,
            s=starts,
            e=starts + timedelta(hours=3),
            st=status,
        )
    )


async def _stay(
    engine: Any, cid: int, event_id: int, user_id: int, at: datetime, minutes: int, award: str = "awarded"
) -> None:
    await _sql(
        engine,
        "INSERT INTO event_checkins (community_id, event_id, user_id, seq, checked_in_at, checked_out_at, "
        "method_in, minutes, points, award_status) "
        "VALUES (:c, :e, :u, 1, :i, :o, 'witnessed', :m, 0, :a) RETURNING id",
        c=cid,
        e=event_id,
        u=user_id,
        i=at,
        o=at + timedelta(minutes=minutes),
        m=minutes,
        a=award,
    )


@pytest.fixture
async def reports_town(client: Any, factory: Factory, engine: Any) -> Town:
    tenant = await factory.tenant()
    cid = tenant.community_id
    admin = await login(client, tenant.admin)
    names = ("郑美玉", "黄志强", "林秀英", "陈大伟")
    people = {name: await login(client, await factory.person(tenant, name=name)) for name in names}
    alice, bob, carol, dave = (people[n] for n in names)
    boss = await factory.person(tenant, name="街道干部")
    await _sql(
        engine,
        "INSERT INTO street_roles (user_id, street_id, role) VALUES (:u, :s, 'street_admin') RETURNING id",
        u=boss.user_id,
        s=tenant.street_id,
    )
    street_admin = await login(client, boss)
    neighbour_id = int(
        await _sql(
            engine,
            "INSERT INTO communities (street_id, name, join_code, time_zone) "
            "VALUES (:s, :n, :j, :z) RETURNING id",
            s=tenant.street_id,
            n="邻居社区" + secrets.token_hex(3),
            j=secrets.token_hex(4),
            z=ZONE,
        )
    )
    today = clock.today(ZONE)
    first, last = today - timedelta(days=1), today
    zone = clock.zone(ZONE)
    start = datetime(first.year, first.month, first.day, tzinfo=zone)
    now = clock.now()

    # The ledger: 100 + 50 + 30 awarded, 20 taken back: 160 issued.
    await _award(client, admin, cid, alice.user_id, 100)
    await _award(client, admin, cid, bob.user_id, 50)
    await _award(client, admin, cid, carol.user_id, 30)
    await _award(client, admin, cid, bob.user_id, 20, path="deductions")
    # The store: alice orders 2 x 30 and picks them up (60 spent); a second order stays held.
    item = await _ok(
        await client.post(
            f"/api/v1/communities/{cid}/items",
            json={"name": "大米", "points_price": 30, "stock": 10},
            headers=admin.headers,
        )
    )
    picked = await _ok(
        await client.post(
            "/api/v1/orders",
            json={"item_id": item["id"], "quantity": 2, "idempotency_key": secrets.token_hex(6)},
            headers=alice.headers,
        )
    )
    await _ok(await client.post("/api/v1/scans", json={"code": picked["pickup_code"]}, headers=admin.headers))
    await _ok(
        await client.post(
            "/api/v1/orders",
            json={"item_id": item["id"], "quantity": 1, "idempotency_key": secrets.token_hex(6)},
            headers=alice.headers,
        )
    )
    # Wishes: two posted, one published.
    wishes = [
        await _ok(
            await client.post(
                f"/api/v1/communities/{cid}/wishes",
                json={"title": title, "description": "测试"},
                headers=carol.headers,
            )
        )
        for title in ("修插座", "轮椅")
    ]
    await _ok(
        await client.post(
            f"/api/v1/wishes/{wishes[0]['id']}/review", json={"decision": "publish"}, headers=admin.headers
        )
    )
    await _ok(
        await client.post(
            f"/api/v1/communities/{cid}/needs",
            json={"title": "独居老人助浴", "category": "care"},
            headers=admin.headers,
        )
    )
    # Events and stays, the times chosen around the period's first instant in the community's zone.
    inside = max(start + timedelta(hours=1), now - timedelta(hours=5))
    service = await _event(engine, cid, "service", inside)
    cleanup = await _event(engine, cid, "cleanup", inside)
    before = await _event(engine, cid, "service", start - timedelta(hours=4))
    await _event(engine, cid, "council", inside, status="cancelled")
    await _stay(engine, cid, service, alice.user_id, inside, 90)
    await _stay(engine, cid, service, bob.user_id, inside, 30, award="zero")
    await _stay(engine, cid, cleanup, alice.user_id, inside, 60, award="pending")  # not yet credited
    await _stay(engine, cid, before, dave.user_id, start - timedelta(hours=4), 120)  # ended before
    await _sql(
        engine,
        "INSERT INTO hour_claims (community_id, user_id, what, category, worked_on, minutes, status, "
        "created_at) VALUES (:c, :u, '议事会记录', 'council', :d, 48, 'approved', now()) RETURNING id",
        c=cid,
        u=carol.user_id,
        d=today,
    )
    await _sql(
        engine,
        "INSERT INTO hour_claims (community_id, user_id, what, category, worked_on, minutes, status, "
        "created_at) VALUES (:c, :u, '前天的服务', 'service', :d, 600, 'approved', now()) RETURNING id",
        c=cid,
        u=dave.user_id,
        d=first - timedelta(days=1),
    )
    # Another street's community with figures of its own, which must not show here.
    other = await factory.tenant()
    other_admin = await login(client, other.admin)
    stranger = await factory.person(other, name="外人")
    await _award(client, other_admin, other.community_id, stranger.user_id, 999)

    town = Town(tenant, admin, street_admin, alice, people, first, last, neighbour_id)
    town.expected = {
        "points_issued": 100 + 50 + 30 - 20,
        "points_spent": 60,
        "points_expired": 0,
        "orders_picked_up": 1,
        "store_turnover": 60,
        "events": 2,
        "attendance": 3,  # alice and bob at the service, alice at the cleanup
        "active_residents": 3,  # alice, bob (stays), carol (approved hours); not dave
        "volunteer_hours": round((90 + 30 + 48) / 60, 1),
        "hours_by_category": {"service": 2.0, "council": 0.8, "cleanup": 0, "suggestion": 0, "other": 0},
        "wishes": {"submitted": 1, "published": 1, "claimed": 0, "delivered": 0, "rejected": 0},
        "wishes_delivered": 0,
        "needs": 1,
        "resources": 0,
        "projects": 0,
        "vouchers_redeemed": 0,
    }
    return town
