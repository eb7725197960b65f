"""What an event is shown as comes from its schedule; sign-ups and attended events are apart;
the place is said once, with full-width colons in Chinese."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.core import clock
from app.events import rules
from app.places.models import Compound
from tests.api.helpers import loose_dates, post_form, words
from tests.events.conftest import kiosk_code, make_event, scan


def test_schedule_status_and_place_text() -> None:
    start = datetime(2030, 5, 1, 1, tzinfo=UTC)
    end = start + timedelta(hours=2)
    assert rules.schedule_status("open", start, end, start - timedelta(days=20)) == "upcoming"
    assert rules.schedule_status("open", start, end, start + timedelta(minutes=1)) == "ongoing"
    assert rules.schedule_status("open", start, end, end) == "ended"
    assert rules.schedule_status("closed", start, end, start) == "ended"
    assert rules.schedule_status("cancelled", start, end, start) == "cancelled"
    assert rules.place_text("光复新村", "光复新村2号楼前集合") == "光复新村2号楼前集合"
    assert rules.place_text("光复新村", "  2号楼前  集合 ") == "光复新村 · 2号楼前 集合"
    assert rules.place_text("光复新村", "") == "光复新村"
    assert rules.place_text(None, "社区广场") == "社区广场"


async def test_events_weeks_away_are_upcoming_not_ongoing(client, site):
    tenant, admin, _alice, _bob = site
    cid = tenant.community_id
    later = clock.now() + timedelta(days=21)
    far = await make_event(
        client, admin, cid, starts_at=later.isoformat(), ends_at=(later + timedelta(hours=2)).isoformat()
    )
    now_on = await make_event(client, admin, cid)
    manage = (
        await client.get(f"/admin/c/{cid}/events", headers={**admin.headers, "Accept-Language": "zh-CN"})
    ).text
    row_far = manage[manage.index(f'href="/events/{far}"') :]
    row_now = manage[manage.index(f'href="/events/{now_on}"') :]
    assert row_far.index('data-schedule="upcoming"') < row_far.index("</tr>")
    assert row_now.index('data-schedule="ongoing"') < row_now.index("</tr>")
    detail = (await client.get(f"/events/{far}", headers=admin.headers)).text
    assert 'data-schedule="upcoming"' in detail
    listing = (await client.get(f"/c/{cid}/events", headers=admin.headers)).text
    item_far = listing[listing.index(f'href="/events/{far}"') :]
    assert 'data-schedule="ongoing"' not in item_far[: item_far.index("</li>")]


async def test_attended_events_leave_the_sign_up_list(client, site):
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    event_id = await make_event(client, admin, cid, signup_required=True, kiosk_confirmation=False)
    await client.post(f"/api/v1/events/{event_id}/signups", headers=alice.headers)

    def signed_up_part(html: str) -> str:
        return html[html.index("<h2>") : html.index("</section>")]

    mine = (await client.get(f"/c/{cid}/my-events", headers=alice.headers)).text
    assert f'href="/events/{event_id}"' in signed_up_part(mine)
    assert (await scan(client, alice, await kiosk_code(client, admin, event_id))).status_code == 200
    clock.advance(timedelta(minutes=30))
    await scan(client, alice, await kiosk_code(client, admin, event_id, "checkout"))
    mine = (await client.get(f"/c/{cid}/my-events", headers=alice.headers)).text
    assert f'href="/events/{event_id}"' not in signed_up_part(mine)
    assert f'href="/events/{event_id}"' in mine  # under attended


async def test_where_names_the_compound_once_with_a_full_width_colon(client, site, db):
    tenant, admin, _alice, _bob = site
    cid = tenant.community_id
    await post_form(
        client, f"/admin/c/{cid}/compounds", {"name": "光复新村", "households": "0"}, headers=admin.headers
    )
    compound_id = await db.scalar(
        select(Compound.id).where(Compound.community_id == cid, Compound.name == "光复新村")
    )
    created = await post_form(
        client,
        f"/admin/c/{cid}/events",
        {
            "title": "楼道清洁",
            "category": "cleanup",
            "compound_id": str(compound_id),
            "place": "光复新村2号楼前集合",
            "starts_at": "2030-05-01T09:00",
            "ends_at": "2030-05-01T11:00",
            "points_per_attendance": "5",
            "weeks": "1",
        },
        headers=admin.headers,
    )
    page = (
        await client.get(created.headers["location"], headers={**admin.headers, "Accept-Language": "zh-CN"})
    ).text
    assert "地点：光复新村2号楼前集合" in page
    assert "光复新村 光复新村" not in page and "  光复" not in page
    assert "时间：2030-05-01 周三 09:00 – 11:00" in words(page) and loose_dates(page) == []
    for half in ("地点:", "时间:", "积分:", "名额:"):
        assert half not in page
