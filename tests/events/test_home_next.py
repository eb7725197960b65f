"""The home page's next event is one still ahead of the person: an event they already came to and
left (checked out, the morning's cleanup still under way) stood there as their next, over the one
they signed up for tomorrow, which My events lists as the next sign-up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.core import clock
from tests.events.conftest import kiosk_code, make_event, scan


async def test_the_next_event_on_the_home_page_is_not_one_already_attended(client: Any, site: Any) -> None:
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    today = await make_event(
        client, admin, cid, title="今早六清大扫除", signup_required=True, kiosk_confirmation=False
    )
    start = clock.now() + timedelta(days=1)
    tomorrow = await make_event(
        client,
        admin,
        cid,
        title="明天居民恳谈会",
        category="council",
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
        signup_required=True,
    )
    for event_id in (today, tomorrow):
        signed = await client.post(f"/api/v1/events/{event_id}/signups", headers=alice.headers)
        assert signed.status_code == 201, signed.text
    home = (await client.get("/", headers=alice.headers)).text
    assert "今早六清大扫除" in home.split("next-title", 1)[1].split("</strong>", 1)[0]
    assert (await scan(client, alice, await kiosk_code(client, admin, today))).status_code == 200
    clock.advance(timedelta(minutes=30))
    assert (await scan(client, alice, await kiosk_code(client, admin, today, "checkout"))).status_code == 200
    home = (await client.get("/", headers=alice.headers)).text
    assert "明天居民恳谈会" in home.split("next-title", 1)[1].split("</strong>", 1)[0], home
    mine = (await client.get(f"/c/{cid}/my-events", headers=alice.headers)).text
    ahead = mine.split("<h2", 2)[1]
    assert "明天居民恳谈会" in ahead and "今早六清大扫除" not in ahead
