"""A stay's hours count in one period everywhere: the dashboards, the hours export and the
resident's "this year" all read a stay by the moment it ended (as its points are awarded then), so
a stay across local midnight at a month's or a year's end is not counted in two periods."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.core import clock, exports
from app.core.figures import Scope
from app.events import hours
from app.places.models import Community
from app.reports.services import figures_of
from tests.events.conftest import hour_long_stays
from tests.events.test_checkin_api import admin_actor
from tests.events.test_time_zone import set_clock

ZONE = "Asia/Shanghai"


async def test_a_stay_across_midnight_counts_in_the_month_it_ended_in_every_figure(client, site, db):
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    # From 23:30 on 31 December in Fuzhou (15:30 UTC) to 00:30 on 1 January.
    set_clock(datetime(2026, 12, 31, 15, 30, tzinfo=UTC))
    await hour_long_stays(client, admin, alice, cid, open_hours=3)

    community = await db.get(Community, cid)
    assert community is not None and community.time_zone == ZONE
    export = exports.find("hours")
    assert export is not None
    for first, last, expected in (
        (date(2026, 12, 1), date(2026, 12, 31), 0.0),
        (date(2027, 1, 1), date(2027, 1, 31), 1.0),
    ):
        shown = (await figures_of(db, [community], first, last))[0]
        assert shown.count("volunteer_hours") == expected
        rows = await export.fn(db, Scope(cid, first, last, ZONE))
        assert sum(row[2] for row in rows) == expected, (first, rows)
        assert sum(row[3] for row in rows) == (1 if expected else 0)
        # She checked in in December and her hour counts in January: an active resident of both
        # (January's hours were a person's who was no active resident of January).
        assert shown.count("active_residents") == 1, (first, shown.values)
    # The resident's own page: the hour is this year's on 1 January.
    page = (await client.get(f"/c/{cid}/hours", headers={**alice.headers, "Accept-Language": "en"})).text
    assert "1.0</strong>hours this year" in page.replace("\n", "")


async def test_hours_by_category_add_up_to_the_hours_shown(site, db):
    """Twenty minutes in each of three categories is an hour: the categories showed 0.3 each,
    0.9 together beside a total of 1.0."""
    tenant, _admin, alice, _bob = site
    cid = tenant.community_id
    for category in ("service", "cleanup", "council"):
        await hours.enter_honour_hours(
            db,
            admin_actor(tenant),
            cid,
            alice.user_id,
            hours.ClaimInput(what="值守", worked_on=clock.today(ZONE), minutes=20, category=category),
            points=0,
            converts_to_points=False,
        )
    await db.commit()
    community = await db.get(Community, cid)
    assert community is not None
    today = clock.today(ZONE)
    shown = (await figures_of(db, [community], today, today))[0]
    parts = shown.breakdown("hours_by_category")
    assert shown.count("volunteer_hours") == 1.0
    assert round(sum(parts.values()), 1) == 1.0, parts
    assert sorted(v for v in parts.values() if v) == [0.3, 0.3, 0.4]


async def test_two_stays_at_one_event_are_one_time_in_the_export_as_in_the_attendance(client, site, db):
    """Out for lunch and back: two stays, one time of service. The export's times counted each stay,
    2 beside an attendance of 1."""
    tenant, admin, alice, _bob = site
    cid = tenant.community_id
    set_clock(datetime(2026, 12, 10, 1, 0, tzinfo=UTC))  # 09:00 in Fuzhou
    await hour_long_stays(client, admin, alice, cid, open_hours=6, stays=2, reentry_allowed=True)
    community = await db.get(Community, cid)
    assert community is not None
    day = date(2026, 12, 10)
    shown = (await figures_of(db, [community], day, day))[0]
    export = exports.find("hours")
    assert export is not None
    rows = await export.fn(db, Scope(cid, day, day, ZONE))
    assert shown.count("attendance") == 1 and shown.count("volunteer_hours") == 2.0
    assert [(row[2], row[3]) for row in rows] == [(2.0, 1)]
