"""The community's time zone: "today", "this year" and every time shown are read in it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from app.core import clock
from app.events import jobs as event_jobs
from app.places.models import Community
from tests.api.helpers import post_form, words
from tests.conftest import login
from tests.events.conftest import hour_long_stays, kiosk_code, make_event, scan
from tests.served_jobs import served_tick


def set_clock(at: datetime) -> None:
    clock.advance(at - clock.now())


def test_local_helpers_read_the_zone() -> None:
    at = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert clock.text(at) == "2027-01-01 07:30"
    assert clock.text(at, "Europe/London", "time") == "23:30"
    assert clock.text(at, "Not/AZone") == "2027-01-01 07:30"
    assert clock.parse_local("2027-01-01T07:30", "Asia/Shanghai") == at
    set_clock(at)
    assert clock.today("Asia/Shanghai").isoformat() == "2027-01-01"
    assert clock.today("UTC").isoformat() == "2026-12-31"
    assert clock.year_start("Asia/Shanghai") == datetime(2026, 12, 31, 16, tzinfo=UTC)


async def test_hours_claimed_at_seven_in_the_morning_china_time_are_for_that_day(client, site):
    tenant, _admin, alice, _bob = site
    cid = tenant.community_id
    # 07:10 in Fuzhou is 23:10 UTC of the day before: the claim is for Fuzhou's today.
    set_clock(datetime(2026, 6, 14, 23, 10, tzinfo=UTC))
    page = await client.get(f"/c/{cid}/hours", headers=alice.headers)
    assert 'value="2026-06-15"' in page.text
    response = await post_form(
        client,
        f"/c/{cid}/hours/claims",
        {"what": "清理楼道", "worked_on": "2026-06-15", "hours": "1", "minutes": "0", "category": "cleanup"},
        headers=alice.headers,
    )
    assert response.status_code == 303, response.text
    tomorrow = await post_form(
        client,
        f"/c/{cid}/hours/claims",
        {"what": "清理楼道", "worked_on": "2026-06-16", "hours": "1", "category": "cleanup"},
        headers=alice.headers,
    )
    assert tomorrow.status_code == 422


async def test_hours_this_year_start_at_local_midnight(client, site, db):
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    # An hour on 31 December from 20:00 China time (12:00 UTC)...
    set_clock(datetime(2026, 12, 31, 12, 0, tzinfo=UTC))
    await hour_long_stays(client, admin, alice, cid, open_hours=2)
    # ...is last year's at 00:30 on 1 January in Fuzhou, though UTC still says 31 December.
    set_clock(datetime(2026, 12, 31, 16, 30, tzinfo=UTC))
    page = (await client.get(f"/c/{cid}/hours", headers={**alice.headers, "Accept-Language": "en"})).text
    assert "1.0</strong>hours in total" in page.replace("\n", "")
    assert "0.0</strong>hours this year" in page.replace("\n", "")
    # In a community that keeps UTC it is still this year's.
    await db.execute(update(Community).where(Community.id == cid).values(time_zone="UTC"))
    await db.commit()
    page = (await client.get(f"/c/{cid}/hours", headers={**alice.headers, "Accept-Language": "en"})).text
    assert "1.0</strong>hours this year" in page.replace("\n", "")


async def test_event_times_show_in_the_communitys_zone(client, site, db):
    tenant, admin, _alice, _bob = site
    cid = tenant.community_id
    starts = datetime(2030, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 in Fuzhou
    event_id = await make_event(
        client, admin, cid, starts_at=starts.isoformat(), ends_at=(starts + timedelta(hours=2)).isoformat()
    )
    page = await client.get(f"/events/{event_id}", headers=admin.headers)
    assert "2030-03-02 周六 09:00" in page.text and "11:00" in page.text
    listing = await client.get(f"/admin/c/{cid}/events", headers=admin.headers)
    assert "2030-03-02 09:00" in listing.text
    await db.execute(update(Community).where(Community.id == cid).values(time_zone="Europe/London"))
    await db.commit()
    page = await client.get(f"/events/{event_id}", headers=admin.headers)
    assert "2030-03-02 周六 01:00" in page.text
    form = await client.get(f"/events/{event_id}/edit", headers=admin.headers)
    assert 'value="2030-03-02T01:00"' in form.text


async def test_admin_sets_the_time_zone_and_residents_cannot(client, site):
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    page = await client.get(f"/admin/c/{cid}/places", headers=admin.headers)
    assert "Asia/Shanghai" in page.text and 'name="time_zone"' in page.text
    # The zones read as words, not IANA codes.
    zh = await client.get(f"/admin/c/{cid}/places", headers={**admin.headers, "accept-language": "zh-Hans"})
    assert '<option value="Asia/Shanghai" selected>北京时间</option>' in zh.text
    assert "按北京时间显示" in zh.text and ">Asia/Shanghai<" not in zh.text
    bad = await post_form(
        client, f"/admin/c/{cid}/time-zone", {"time_zone": "Mars/Base"}, headers=admin.headers
    )
    assert bad.status_code == 422
    refused = await post_form(
        client, f"/admin/c/{cid}/time-zone", {"time_zone": "UTC"}, headers=alice.headers
    )
    assert refused.status_code == 403
    saved = await post_form(
        client, f"/admin/c/{cid}/time-zone", {"time_zone": "Asia/Urumqi"}, headers=admin.headers
    )
    assert saved.status_code == 303
    page = await client.get(f"/admin/c/{cid}/places", headers=admin.headers)
    assert '<option value="Asia/Urumqi" selected>乌鲁木齐时间</option>' in page.text


async def test_statement_shows_local_time(client, site):
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    set_clock(datetime(2026, 6, 14, 23, 10, tzinfo=UTC))
    award = await client.post(
        f"/api/v1/communities/{cid}/awards",
        json={"user_id": alice.user_id, "points": 5, "reason": "test", "idempotency_key": "tz-award-1"},
        headers=admin.headers,
    )
    assert award.status_code in (200, 201), award.text
    page = await client.get(f"/wallet/statement?community_id={cid}", headers=alice.headers)
    assert "2026-06-15 07:10" in page.text


async def test_scan_answer_tells_the_time_where_the_event_is(client, site, db, engine):
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    await db.execute(update(Community).where(Community.id == cid).values(time_zone="Europe/London"))
    await db.commit()
    # A winter morning ahead of the wall clock, not behind it: an event made in the past is past
    # its end at once for a served app's job on this database (events.close_due), which may close
    # it before the scan.
    set_clock(datetime(2031, 1, 10, 9, 15, tzinfo=UTC))
    for person in (admin, alice):  # their sessions from now on
        await login(client, person)
    event_id = await make_event(client, admin, cid)
    await served_tick(engine, event_jobs.close_due_events)
    answer = await scan(client, alice, await kiosk_code(client, admin, event_id))
    assert answer.status_code == 200, answer.text
    assert answer.json()["time"] == "09:15"  # London in winter is UTC; Fuzhou would say 17:15


async def test_an_events_day_of_the_week_is_the_communitys(client, site, db):
    """A resident plans by the day of the week: the list and the event's page say 周六 beside the
    date, read where the community is; 23:30 on a Friday in UTC is Saturday morning in Fuzhou."""
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    starts = datetime(2030, 3, 1, 23, 30, tzinfo=UTC)
    event_id = await make_event(
        client, admin, cid, starts_at=starts.isoformat(), ends_at=(starts + timedelta(hours=2)).isoformat()
    )
    page = await client.get(f"/events/{event_id}", headers=alice.headers)
    assert "时间：2030-03-02 周六 07:30 – 09:30" in words(page.text)
    listing = await client.get(f"/c/{cid}/events", headers=alice.headers)
    assert "2030-03-02 周六 07:30" in listing.text
    english = await client.get(f"/events/{event_id}", headers={**alice.headers, "Accept-Language": "en"})
    assert "2030-03-02 Sat 07:30" in english.text
    await db.execute(update(Community).where(Community.id == cid).values(time_zone="Europe/London"))
    await db.commit()
    page = await client.get(f"/events/{event_id}", headers=alice.headers)
    assert "2030-03-01 周五 23:30" in page.text


async def test_the_home_pages_next_event_says_its_day_of_the_week(client, site):
    """The resident's home names the next event's day beside its date and place, in the
    community's time: 2030-03-02 周六 07:30 · 光复新村."""
    tenant, admin, alice, _bob = site
    starts = datetime(2030, 3, 1, 23, 30, tzinfo=UTC)
    event_id = await make_event(
        client,
        admin,
        tenant.community_id,
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=2)).isoformat(),
        place="光复新村",
    )
    assert (await client.post(f"/api/v1/events/{event_id}/signups", headers=alice.headers)).status_code in (
        200,
        201,
    )
    home = await client.get("/", headers=alice.headers)
    assert '<span class="next-detail">2030-03-02 周六 07:30 · 光复新村</span>' in home.text
