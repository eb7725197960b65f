"""The stats API (API.md "Reports and notices") answers the sums the test computes from the rows
it made, for the community's admin and the street admin above it, and no one else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text

from app.core import clock
from tests.conftest import login, unique_phone
from tests.reports.conftest import Town


def _subset(answer: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    merged = {**answer, **answer["figures"]}
    return {name: merged[name] for name in expected}


async def test_community_stats_equal_the_rows_made(client: Any, reports_town: Town) -> None:
    town = reports_town
    response = await client.get(
        f"/api/v1/communities/{town.community_id}/stats?{town.query}", headers=town.admin.headers
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["from"] == town.first.isoformat() and answer["to"] == town.last.isoformat()
    assert {"submitted", "published", "claimed", "delivered"} <= set(answer["wishes"])
    assert _subset(answer, town.expected) == town.expected


async def test_street_stats_list_each_community_with_the_same_numbers(
    client: Any, reports_town: Town
) -> None:
    town = reports_town
    community = await client.get(
        f"/api/v1/communities/{town.community_id}/stats?{town.query}", headers=town.street_admin.headers
    )
    assert community.status_code == 200, community.text
    street = await client.get(
        f"/api/v1/streets/{town.tenant.street_id}/stats?{town.query}", headers=town.street_admin.headers
    )
    assert street.status_code == 200, street.text
    rows = {row["community_id"]: row for row in street.json()["communities"]}
    assert set(rows) == {town.community_id, town.neighbour_id}
    assert rows[town.community_id] == community.json()
    assert rows[town.neighbour_id]["points_issued"] == 0 and rows[town.neighbour_id]["events"] == 0
    totals = street.json()["totals"]
    assert totals["points_issued"] == town.expected["points_issued"]
    assert totals["hours_by_category"] == town.expected["hours_by_category"]


async def test_a_period_that_ended_before_the_rows_counts_none_of_them(
    client: Any, reports_town: Town
) -> None:
    town = reports_town
    day = town.first.replace(year=town.first.year - 1)
    response = await client.get(
        f"/api/v1/communities/{town.community_id}/stats?from={day}&to={day}", headers=town.admin.headers
    )
    answer = response.json()
    assert answer["points_issued"] == 0 and answer["volunteer_hours"] == 0 and answer["events"] == 0


async def test_others_are_refused(client: Any, reports_town: Town, factory: Any) -> None:

    town = reports_town
    resident = await client.get(
        f"/api/v1/communities/{town.community_id}/stats", headers=town.resident.headers
    )
    assert resident.status_code == 403 and resident.json()["code"] == "forbidden"
    stranger = await login(client, (await factory.tenant()).admin)
    assert (
        await client.get(f"/api/v1/communities/{town.community_id}/stats", headers=stranger.headers)
    ).status_code == 403
    street = await client.get(f"/api/v1/streets/{town.tenant.street_id}/stats", headers=town.admin.headers)
    assert street.status_code == 404 and street.json()["code"] == "not_found"


async def test_bad_dates_are_a_clear_422(client: Any, reports_town: Town) -> None:
    town = reports_town
    url = f"/api/v1/communities/{town.community_id}/stats"
    for query in (
        "from=2026-13-01",
        "from=yesterday",
        f"from={town.last}&to={town.first.replace(day=1).replace(year=1999)}",
        "from=2020-01-01&to=2026-01-02",
    ):
        response = await client.get(f"{url}?{query}", headers=town.admin.headers)
        assert response.status_code == 422, (query, response.text)
        assert response.json()["code"] == "validation_error" and response.json()["detail"]


async def test_the_points_trend_has_every_day_and_adds_up_to_the_totals(
    client: Any, reports_town: Town
) -> None:
    town = reports_town
    answer = (
        await client.get(
            f"/api/v1/communities/{town.community_id}/stats?{town.query}", headers=town.admin.headers
        )
    ).json()
    trend = answer["figures"]["points_trend"]
    assert list(trend) == [town.first.isoformat(), town.last.isoformat()]
    assert sum(day["issued"] for day in trend.values()) == town.expected["points_issued"]
    assert sum(day["spent"] for day in trend.values()) == town.expected["points_spent"]


async def test_a_streets_this_month_is_its_communities(client: Any, factory: Any, db: Any) -> None:
    """A street of communities in Los Angeles, asked at 16:30 UTC on the last day of a month: it
    is still that day there, but the street's "this month up to today" was the first of the next
    month in Beijing, a day not begun in any of its communities, so every figure read 0."""
    tenant = await factory.tenant()
    zone = "America/Los_Angeles"
    await db.execute(
        text("UPDATE communities SET time_zone = :z WHERE id = :c"), {"z": zone, "c": tenant.community_id}
    )
    await db.execute(
        text("INSERT INTO street_roles (user_id, street_id, role) VALUES (:u, :s, 'street_admin')"),
        {"u": tenant.admin.user_id, "s": tenant.street_id},
    )
    await db.commit()
    boss = await login(client, tenant.admin)
    ahead = clock.now() + timedelta(days=1)
    last_day = (ahead.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    moment = last_day.replace(hour=16, minute=30, second=0, microsecond=0)
    moved = moment - clock.now()
    clock.advance(moved)
    try:
        assert clock.today("Asia/Shanghai") != clock.today(zone)
        answer = await client.get(f"/api/v1/streets/{tenant.street_id}/stats", headers=boss.headers)
        assert answer.status_code == 200, answer.text
        today = clock.today(zone)
        assert (answer.json()["from"], answer.json()["to"]) == (
            today.replace(day=1).isoformat(),
            today.isoformat(),
        )
        page = await client.get(f"/street/{tenant.street_id}/dashboard", headers=boss.headers)
        assert page.status_code == 200
        assert f'value="{today.replace(day=1).isoformat()}"' in page.text, page.text[:2000]
    finally:
        clock.advance(-moved)


async def test_a_pickup_reversed_in_the_ledger_no_longer_counts_as_the_stores(
    client: Any, reports_town: Town, db: Any
) -> None:
    """An admin who reverses a pickup's transfer gives the resident the points back from the store:
    the store's turnover and orders picked up no longer count it, as the points spent do not."""
    town = reports_town
    transfer_id = await db.scalar(
        text("SELECT transfer_id FROM store_orders WHERE community_id = :c AND status = 'picked_up'"),
        {"c": town.community_id},
    )
    reversed_ = await client.post(
        f"/api/v1/communities/{town.community_id}/transfers/{transfer_id}/reverse",
        json={"reason": "退货", "idempotency_key": "returned-rice"},
        headers=town.admin.headers,
    )
    assert reversed_.status_code == 201, reversed_.text
    response = await client.get(
        f"/api/v1/communities/{town.community_id}/stats?{town.query}", headers=town.admin.headers
    )
    figures = response.json()["figures"]
    assert figures["points_spent"] == 0
    assert (figures["store_turnover"], figures["orders_picked_up"]) == (0, 0)


async def test_a_unit_ranked_in_two_communities_of_the_street_says_which_is_which(
    client: Any, reports_town: Town, db: Any
) -> None:
    """A partner unit with an agreement in two communities of the street has a line for each in
    the street's ranking: each line says its community, or the two read as one unit twice."""
    town = reports_town
    made = await client.post(
        f"/api/v1/communities/{town.community_id}/organisations",
        json={
            "name": "省疾控中心测试",
            "kinds": ["partner"],
            "members": [{"phone": unique_phone(), "display_name": "疾控联络员", "password": "member-pass-1"}],
        },
        headers=town.admin.headers,
    )
    assert made.status_code == 201, made.text
    unit = made.json()["id"]
    for community_id, wishes in ((town.community_id, 2), (town.neighbour_id, 4)):
        await db.execute(
            text(
                "INSERT INTO agreements (organisation_id, community_id, year, wishes) VALUES (:o, :c, :y, :w)"
            ),
            {"o": unit, "c": community_id, "y": town.last.year, "w": wishes},
        )
    await db.commit()
    names = dict(
        (
            await db.execute(
                text("SELECT id, name FROM communities WHERE id IN (:a, :b)"),
                {"a": town.community_id, "b": town.neighbour_id},
            )
        ).all()
    )
    answer = await client.get(
        f"/api/v1/streets/{town.tenant.street_id}/stats?{town.query}", headers=town.street_admin.headers
    )
    lines = [line for line in answer.json()["totals"]["partner_ranking"] if line["key"] == unit]
    assert len(lines) == 2
    assert sorted(line["name"] for line in lines) == sorted(
        f"省疾控中心测试 · {names[cid]}" for cid in (town.community_id, town.neighbour_id)
    )
    # Each community's own ranking names the unit alone.
    own = next(c for c in answer.json()["communities"] if c["community_id"] == town.community_id)
    assert [line["name"] for line in own["figures"]["partner_ranking"] if line["key"] == unit] == [
        "省疾控中心测试"
    ]
