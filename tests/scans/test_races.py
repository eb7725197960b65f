"""Races on the live server (2 workers): repeated check-ins and the capacity of an event."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text

from tests.conftest import login


async def _setup(live_server, factory, residents: int, **event: object) -> tuple[object, list, int, str]:
    tenant = await factory.tenant()
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        admin = await login(http, tenant.admin)
        people = [await login(http, await factory.person(tenant)) for _ in range(residents)]
        start = datetime.now(UTC) - timedelta(minutes=5)
        body = {
            "title": "居民恳谈日",
            "category": "council",
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            "capacity": None,
            "points_per_attendance": 10,
            "points_per_hour": 0,
            "signup_required": False,
            **event,
        }
        created = await http.post(
            f"/api/v1/communities/{tenant.community_id}/events", json=body, headers=admin.headers
        )
        assert created.status_code == 201, created.text
        event_id = created.json()["id"]
        code = (
            await http.get(
                f"/api/v1/events/{event_id}/code", params={"action": "checkin"}, headers=admin.headers
            )
        ).json()["code"]
    return tenant, people, event_id, code


async def test_same_residents_check_in_submitted_20_times_at_once_gives_one_check_in(
    live_server, factory, db
):
    _tenant, people, event_id, code = await _setup(live_server, factory, 1)
    (alice,) = people
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        answers = await asyncio.gather(
            *[http.post("/api/v1/scans", json={"code": code}, headers=alice.headers) for _ in range(20)]
        )
    results = sorted(a.json().get("result") or a.json()["code"] for a in answers)
    assert results.count("checked_in") == 1, results
    assert results.count("already_done") == 19, results
    stays = (
        await db.execute(text("SELECT count(*) FROM event_checkins WHERE event_id = :e"), {"e": event_id})
    ).scalar()
    assert stays == 1
    logged = (
        await db.execute(
            text("SELECT count(*) FROM scans WHERE event_id = :e AND scanner_id = :u"),
            {"e": event_id, "u": alice.user_id},
        )
    ).scalar()
    assert logged == 20


async def test_twenty_residents_and_capacity_ten_without_sign_up_gives_exactly_ten(live_server, factory, db):
    _tenant, people, event_id, code = await _setup(live_server, factory, 20, capacity=10)
    async with httpx.AsyncClient(base_url=live_server.url, timeout=30) as http:
        answers = await asyncio.gather(
            *[http.post("/api/v1/scans", json={"code": code}, headers=p.headers) for p in people]
        )
    results = [a.json().get("result") or a.json()["code"] for a in answers]
    assert results.count("checked_in") == 10, results
    assert results.count("event_full") == 10, results
    row = (
        await db.execute(
            text(
                "SELECT (SELECT count(*) FROM event_checkins WHERE event_id = :e) AS stays, "
                "(SELECT attendee_count FROM events WHERE id = :e) AS counter"
            ),
            {"e": event_id},
        )
    ).one()
    assert (row.stays, row.counter) == (10, 10)
