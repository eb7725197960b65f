"""Period edges in the community's time zone: points awarded at 23:30 on a month's last day count
in that month, in the community's figures, the street's (whose other community keeps another
zone), and the points statement, though UTC is already in the next month."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import text

from app.core import clock, exports
from app.core.authz import Actor
from app.core.figures import Scope
from app.events import hours
from app.reports import rules
from tests.reports.conftest import Town, _award

ZONE = "America/Los_Angeles"
TOWN_ZONE = "Asia/Shanghai"


async def _issued(client: Any, person: Any, path: str, first: date, last: date) -> Any:
    answer = await client.get(f"{path}?from={first}&to={last}", headers=person.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def _points_in(db: Any, town: Town, first: date, last: date) -> int:
    statement = exports.find("statements")
    assert statement is not None
    rows = await statement.fn(db, Scope(town.community_id, first, last, ZONE))
    return int(next((r[3] for r in rows if r[0] == town.resident.user_id), 0))


async def test_points_at_half_past_eleven_on_a_months_last_day_count_in_that_month(
    client: Any, reports_town: Town, db: Any
) -> None:
    town = reports_town
    cid = town.community_id
    await db.execute(text("UPDATE communities SET time_zone = :z WHERE id = :c"), {"z": ZONE, "c": cid})
    await db.commit()
    # 23:30 in Los Angeles on the last day of this month there: 07:30 UTC on the next day.
    last_day = rules.month_end(clock.today(ZONE))
    at = datetime(last_day.year, last_day.month, last_day.day, 23, 30, tzinfo=clock.zone(ZONE))
    assert clock.local(at, "UTC").date() > last_day
    first = last_day.replace(day=1)
    following = date.fromordinal(last_day.toordinal() + 1)
    community = f"/api/v1/communities/{cid}/stats"
    street = f"/api/v1/streets/{town.tenant.street_id}/stats"
    before = (await _issued(client, town.admin, community, first, last_day))["points_issued"]
    street_before = (await _issued(client, town.street_admin, street, first, last_day))["totals"]
    in_before = await _points_in(db, town, first, last_day)
    moved = at - clock.now()
    clock.advance(moved)
    try:
        await _award(client, town.admin, cid, town.resident.user_id, 7)
    finally:
        clock.advance(-moved)
    assert (await _issued(client, town.admin, community, first, last_day))["points_issued"] == before + 7
    assert (await _issued(client, town.admin, community, following, following))["points_issued"] == 0
    street_now = await _issued(client, town.street_admin, street, first, last_day)
    assert street_now["totals"]["points_issued"] == street_before["points_issued"] + 7
    # The points statement of the month says the same.
    assert await _points_in(db, town, first, last_day) == in_before + 7
    assert await _points_in(db, town, following, following) == 0


async def test_a_resident_active_in_two_communities_of_the_street_is_one_person_in_its_total(
    client: Any, reports_town: Town, factory: Any, db: Any
) -> None:
    """The street's active residents added its communities' up: a volunteer of two of them was
    two people in the street's total."""
    town = reports_town
    street = f"/api/v1/streets/{town.tenant.street_id}/stats"
    today = clock.today(TOWN_ZONE)
    before = await _issued(client, town.street_admin, street, today, today)
    both = await factory.person(town.tenant, name="两边跑")
    await db.execute(
        text("INSERT INTO memberships (user_id, community_id, roles) VALUES (:u, :c, ARRAY['resident'])"),
        {"u": both.user_id, "c": town.neighbour_id},
    )
    for cid in (town.community_id, town.neighbour_id):
        await hours.enter_honour_hours(
            db,
            Actor(town.admin.user_id, "管理员", {cid: frozenset({"admin"})}),
            cid,
            both.user_id,
            hours.ClaimInput(what="值守", worked_on=today, minutes=60),
            points=0,
            converts_to_points=False,
        )
    await db.commit()
    after = await _issued(client, town.street_admin, street, today, today)
    per_community = {c["community_id"]: c["active_residents"] for c in after["communities"]}
    was = {c["community_id"]: c["active_residents"] for c in before["communities"]}
    assert per_community[town.community_id] == was[town.community_id] + 1
    assert per_community[town.neighbour_id] == was[town.neighbour_id] + 1
    assert after["totals"]["active_residents"] == before["totals"]["active_residents"] + 1
    page = await client.get(
        f"/street/{town.tenant.street_id}/dashboard?from={today}&to={today}",
        headers=town.street_admin.headers,
    )
    shown = f'data-figure="active_residents" data-value="{after["totals"]["active_residents"]}"'
    assert shown in page.text
