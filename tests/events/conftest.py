"""Helpers for the events tests: events made through the public API, times near the app's clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from app.core import clock
from tests.conftest import Person


def event_body(**overrides: Any) -> dict[str, Any]:
    start = clock.now() - timedelta(minutes=5)
    body: dict[str, Any] = {
        "title": "军门社区六清大扫除",
        "category": "cleanup",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "capacity": 50,
        "points_per_attendance": 5,
        "points_per_hour": 20,
        "max_points": None,
        "auto_award": True,
        "signup_required": False,
    }
    body.update(overrides)
    return body


async def make_event(client: Any, admin: Person, community_id: int, **overrides: Any) -> int:
    response = await client.post(
        f"/api/v1/communities/{community_id}/events", json=event_body(**overrides), headers=admin.headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def kiosk_code(client: Any, admin: Person, event_id: int, action: str = "checkin") -> str:
    response = await client.get(
        f"/api/v1/events/{event_id}/code", params={"action": action}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    return str(response.json()["code"])


async def scan(client: Any, person: Person, code: str, **extra: Any) -> Any:
    return await client.post("/api/v1/scans", json={"code": code, **extra}, headers=person.headers)


async def balance(client: Any, person: Person, community_id: int) -> int:
    response = await client.get(
        "/api/v1/me/wallet", params={"community_id": community_id}, headers=person.headers
    )
    assert response.status_code == 200, response.text
    return int(response.json()["balance"])


@pytest.fixture(autouse=True)
def _reset_clock() -> Any:
    clock.reset()
    yield
    clock.reset()


async def hour_long_stays(
    client: Any,
    admin: Person,
    person: Person,
    community_id: int,
    *,
    open_hours: int,
    stays: int = 1,
    **overrides: Any,
) -> int:
    """An event open from five minutes before the test's clock for `open_hours`, kiosk check-ins
    confirmed at once, where `person` stays an hour `stays` times by the kiosk's codes (an hour
    apart when more than one); the event's id."""
    start = clock.now() - timedelta(minutes=5)
    event_id = await make_event(
        client,
        admin,
        community_id,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=open_hours)).isoformat(),
        kiosk_confirmation=False,
        **overrides,
    )
    for turn in range(stays):
        if turn:
            clock.advance(timedelta(hours=1))
        assert (await scan(client, person, await kiosk_code(client, admin, event_id))).status_code == 200
        clock.advance(timedelta(hours=1))
        out = await scan(client, person, await kiosk_code(client, admin, event_id, "checkout"))
        assert out.status_code == 200 and out.json()["minutes"] == 60, out.text
    return event_id
