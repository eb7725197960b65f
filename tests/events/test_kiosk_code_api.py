"""API.md's kiosk code: `GET /api/v1/events/{event_id}/code` answers the event's organiser and the
staff and admins of its community (anyone else 403), and a code is accepted for at least 15 and at
most 30 seconds from the moment it was handed out, wherever in its rotation that moment falls."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.core import clock
from app.core.rotating import WINDOW_SECONDS
from tests.conftest import login
from tests.events.conftest import event_body, kiosk_code, scan


async def test_the_organiser_and_staff_get_the_code_and_another_resident_does_not(client, site, factory):
    tenant, admin, alice, bob = site
    staff = await login(client, await factory.person(tenant, roles=["staff"]))
    made = await client.post(
        f"/api/v1/communities/{tenant.community_id}/events",
        json=event_body(organiser_ids=[alice.user_id]),
        headers=admin.headers,
    )
    assert made.status_code == 201, made.text
    path = f"/api/v1/events/{made.json()['id']}/code"
    for person in (alice, staff, admin):
        for action in ("checkin", "checkout"):
            answer = await client.get(path, params={"action": action}, headers=person.headers)
            assert answer.status_code == 200, (person.display_name, answer.text)
            assert {"code", "expires_at"} <= set(answer.json())
            assert datetime.fromisoformat(answer.json()["expires_at"]).utcoffset() is not None
    refused = await client.get(path, params={"action": "checkin"}, headers=bob.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden", refused.text


async def test_a_code_is_taken_15_seconds_on_however_late_it_was_handed_out_and_not_past_30(
    client, site, factory
):
    tenant, admin, alice, bob = site
    carol = await login(client, await factory.person(tenant, name="林秀英"))
    made = await client.post(
        f"/api/v1/communities/{tenant.community_id}/events",
        json=event_body(signup_required=False),
        headers=admin.headers,
    )
    event_id = made.json()["id"]
    # One second before the code's rotation moves on (a second kept for the test's own time).
    into = clock.now().timestamp() % WINDOW_SECONDS
    clock.advance(timedelta(seconds=WINDOW_SECONDS - 1 - into))
    late = await kiosk_code(client, admin, event_id)
    clock.advance(timedelta(seconds=15))
    taken = await scan(client, alice, late)
    assert taken.status_code == 200 and taken.json()["result"] == "checked_in", taken.text
    # Handed out early in its rotation: taken 28.5 seconds on, refused past 30.
    into = clock.now().timestamp() % WINDOW_SECONDS
    clock.advance(timedelta(seconds=WINDOW_SECONDS - into + 0.2))
    early = await kiosk_code(client, admin, event_id)
    clock.advance(timedelta(seconds=28.5))
    assert (await scan(client, bob, early)).json()["result"] == "checked_in"
    clock.advance(timedelta(seconds=2))
    stale = await scan(client, carol, early)
    assert stale.status_code == 422 and stale.json()["code"] == "code_expired", stale.text
