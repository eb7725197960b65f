"""Hours follow one rule wherever they are shown: the minutes are added up first and the sum is
shown once, to one decimal, rounded down (app.core.figures.hours). A person's hours in the export,
on their own page and on their stars, a community's on its dashboard and a street's total then
agree, and a star is never shown as reached before its hours are."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import text

from app.core import exports, figures
from app.core.authz import Actor
from app.core.figures import Scope
from app.events import hours
from app.events.rules import stars_for
from app.places.models import Community
from app.reports.services import figures_of
from tests.reports.conftest import Town

DAY = date(2024, 7, 9)  # a day the town made nothing on


@pytest.mark.parametrize(
    ("minutes", "shown"),
    [(0, 0.0), (3, 0.0), (5, 0.0), (6, 0.1), (9, 0.1), (15, 0.2), (21, 0.3), (27, 0.4), (45, 0.7), (59, 0.9)]
    + [(60, 1.0), (5997, 99.9), (6000, 100.0)],
)
def test_hours_are_the_minutes_rounded_down_to_a_tenth(minutes: int, shown: float) -> None:
    # Rounding half to even on a binary float made 15 minutes 0.2 but 27 minutes 0.5.
    assert figures.hours(minutes) == shown


def test_the_hours_to_the_next_star_and_the_hours_shown_make_the_stars_hours() -> None:
    """99 h 57 min: the page said "100.0 hours" beside "not yet rated"."""
    for minutes in (5997, 5999, 5940, 17_999, 1, 0):
        stars = stars_for(minutes)
        assert stars.hours == figures.hours(minutes)
        assert stars.next_at is not None
        assert round(stars.hours + (stars.hours_to_next or 0), 1) == stars.next_at, minutes
        assert stars.hours < stars.next_at


async def _honour(
    db: Any, town: Town, cid: int, user_id: int, minutes: int, category: str = "service"
) -> None:
    await hours.enter_honour_hours(
        db,
        Actor(town.admin.user_id, "管理员", {cid: frozenset({"admin"})}),
        cid,
        user_id,
        hours.ClaimInput(what="值守", worked_on=DAY, minutes=minutes, category=category),
        points=0,
        converts_to_points=False,
    )


async def test_the_hours_export_adds_up_to_the_dashboards_hours(
    reports_town: Town, factory: Any, db: Any
) -> None:
    """Three people of a quarter of an hour each: the dashboard said 0.8 hours, the export 0.2 for
    each, 0.6 together; the export now carries each person's minutes, which add up exactly."""
    town = reports_town
    cid = town.community_id
    for name in ("甲", "乙", "丙"):
        person = await factory.person(town.tenant, name=f"一刻钟{name}")
        await _honour(db, town, cid, person.user_id, 15)
    # A person whose account was deactivated since still counts in both.
    await db.execute(text("UPDATE users SET is_active = false WHERE id = :u"), {"u": person.user_id})
    await db.commit()
    community = await db.get(Community, cid)
    assert community is not None
    shown = (await figures_of(db, [community], DAY, DAY))[0].count("volunteer_hours")
    export = exports.find("hours")
    assert export is not None
    names = [c.label for c in export.columns]
    rows = await export.fn(db, Scope(cid, DAY, DAY, community.time_zone))
    period = names.index("Minutes in the period")
    assert [row[period] for row in rows] == [15, 15, 15]
    assert [row[2] for row in rows] == [figures.hours(15)] * 3
    assert shown == figures.hours(sum(row[period] for row in rows)) == 0.7


async def test_a_streets_hours_are_its_communities_minutes_added_up(
    client: Any, reports_town: Town, factory: Any, db: Any
) -> None:
    """A quarter of an hour in each of two communities of one street is half an hour: the street
    added up each community's 0.2 (rounded alone) into 0.4."""
    town = reports_town
    for cid in (town.community_id, town.neighbour_id):
        person = await factory.person(town.tenant, name="一刻钟")
        if cid != town.community_id:
            await db.execute(
                text(
                    "INSERT INTO memberships (user_id, community_id, roles) "
                    "VALUES (:u, :c, ARRAY['resident'])"
                ),
                {"u": person.user_id, "c": cid},
            )
        await _honour(db, town, cid, person.user_id, 15, category="cleanup")
    await db.commit()
    answer = await client.get(
        f"/api/v1/streets/{town.tenant.street_id}/stats?from={DAY}&to={DAY}",
        headers=town.street_admin.headers,
    )
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert [c["volunteer_hours"] for c in data["communities"] if c["volunteer_hours"]] == [0.2, 0.2]
    assert data["totals"]["volunteer_hours"] == 0.5
    assert data["totals"]["hours_by_category"]["cleanup"] == 0.5
    page = await client.get(
        f"/street/{town.tenant.street_id}/dashboard?from={DAY}&to={DAY}", headers=town.street_admin.headers
    )
    assert 'data-figure="volunteer_hours" data-value="0.5"' in page.text


async def test_a_persons_page_shows_the_hours_and_the_next_star_by_the_same_rule(
    client: Any, site: Any, db: Any
) -> None:
    """99 h 57 min in four categories: the page said "100.0 hours in total" beside "not yet rated",
    and its categories, each rounded alone, did not add up to it."""
    tenant, _admin, alice, _bob = site
    cid = tenant.community_id
    for category, minutes in (
        ("service", 1439),
        ("cleanup", 1439),
        ("council", 1439),
        ("suggestion", 1439),
        ("other", 241),
    ):
        await db.execute(
            text(
                "INSERT INTO hour_claims (community_id, user_id, what, category, worked_on, minutes, "
                "status, created_at) VALUES (:c, :u, '助老', :k, current_date, :m, 'approved', now())"
            ),
            {"c": cid, "u": alice.user_id, "k": category, "m": minutes},
        )
    await db.commit()
    page = (await client.get(f"/c/{cid}/hours", headers={**alice.headers, "Accept-Language": "en"})).text
    flat = page.replace("\n", "")
    assert "99.9</strong>hours in total" in flat
    assert 'data-stars="0"' in page and "0.1 more hours to the next star (100 hours)" in page
    shown = [float(h) for h in re.findall(r"<td>([0-9.]+) hours</td>", page)]
    assert round(sum(shown), 1) == 99.9, shown
    assert "rounded down" in page
    certificate = await client.get(
        f"/c/{cid}/certificate", headers={**alice.headers, "Accept-Language": "en"}
    )
    assert "99.9 hours of volunteer service" in certificate.text


async def test_no_hours_read_as_hours_on_the_dashboard(client: Any, reports_town: Town) -> None:
    """A period without hours showed "0" on the dashboard beside "0.0" on a person's page."""
    town = reports_town
    page = await client.get(
        f"/admin/c/{town.community_id}/dashboard?from={DAY}&to={DAY}", headers=town.admin.headers
    )
    assert 'data-figure="volunteer_hours" data-value="0.0">0.0<' in page.text


async def test_the_street_page_and_the_indicator_report_say_what_their_figures_count(
    client: Any, reports_town: Town
) -> None:
    """The dashboard said how its counts are counted; the street's page, whose hours and active
    residents are not the sum of its communities' column, and the printed indicator report did not."""
    town = reports_town
    for language, hours_note, street_note in (
        ("en", "rounded down from all the minutes added up", "counted over all its communities at once"),
        ("zh", "由全部分钟数相加后向下取整", "按全部社区一起统计"),
    ):
        headers = {"Accept-Language": language}
        street = await client.get(
            f"/street/{town.tenant.street_id}/dashboard", headers={**town.street_admin.headers, **headers}
        )
        assert 'data-note="volunteer_hours"' in street.text and hours_note in street.text, language
        assert 'data-note="street"' in street.text and street_note in street.text, language
        report = await client.get(
            f"/admin/c/{town.community_id}/indicators", headers={**town.admin.headers, **headers}
        )
        assert 'data-note="volunteer_hours"' in report.text and hours_note in report.text, language
        assert 'data-note="street"' not in report.text
