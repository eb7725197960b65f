"""Agreements: commitments per community and year, tasks, and progress counted from what happened:
resources listed, projects joined, hours its members and confirmed registrants earned, and what
other domains count through the progress registry."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import clock
from app.partners import progress
from app.partners.figures import overall_percent
from app.partners.rules import Share
from tests.api.helpers import session_of
from tests.conftest import Factory, login
from tests.partners.conftest import PHONE_RE, Town, make_agreement, make_organisation


async def _stay(engine: Any, community_id: int, user_id: int, minutes: int, status: str = "awarded") -> None:
    """An event stay closed now, as the events domain records one."""
    now = clock.now()
    async with async_sessionmaker(engine)() as s, s.begin():
        event_id = (
            await s.execute(
                text(
                    "INSERT INTO events (community_id, title, category, starts_at, ends_at, capacity, "
                    "points_per_attendance, points_per_hour) "
                    "VALUES (:c, '清洁家园', 'cleanup', :s, :e, 50, 5, 10) RETURNING id"
                ),
                {"c": community_id, "s": now - timedelta(hours=4), "e": now},
            )
        ).scalar_one()
        await s.execute(
            text(
                "INSERT INTO event_checkins (community_id, event_id, user_id, seq, checked_in_at, "
                "checked_out_at, method_in, minutes, award_status) "
                "VALUES (:c, :ev, :u, 1, :i, :o, 'witnessed', :m, :st)"
            ),
            {
                "c": community_id,
                "ev": event_id,
                "u": user_id,
                "i": now - timedelta(minutes=minutes),
                "o": now,
                "m": minutes,
                "st": status,
            },
        )


async def test_progress_is_counted_from_what_happened(
    client: Any, town: Town, factory: Factory, engine: Any
) -> None:
    organisation_id, (member,) = await make_organisation(client, town)
    year = clock.local(clock.now()).year
    agreement_id = await make_agreement(
        client, town, organisation_id, year, wishes=5, volunteer_hours=10, resources=2, projects=1
    )
    await client.post(
        f"/api/v1/organisations/{organisation_id}/resources",
        json={"community_id": town.community_id, "title": "健康讲座", "category": "medical"},
        headers=member.headers,
    )
    resource_id = (
        await client.post(
            f"/api/v1/organisations/{organisation_id}/resources",
            json={"community_id": town.community_id, "title": "流感疫苗", "category": "medical"},
            headers=member.headers,
        )
    ).json()["id"]
    await client.post(
        f"/api/v1/communities/{town.community_id}/projects",
        json={
            "title": "疫苗进社区",
            "resource_ids": [resource_id],
            "owner_user_id": member.user_id,
            "due_on": f"{year}-12-01",
        },
        headers=town.admin.headers,
    )
    # Hours: a member's 2 h, a confirmed registrant's 1.5 h; not a refused stay, not a stranger's.
    await _stay(engine, town.community_id, member.user_id, 120)
    await _stay(engine, town.community_id, member.user_id, 600, status="rejected")
    await _stay(engine, town.community_id, town.grid.user_id, 600)
    registered = await client.post(
        "/api/v1/registrations",
        json={"community_id": town.community_id, "organisation_id": organisation_id},
        headers=town.resident.headers,
    )
    assert registered.status_code == 201 and registered.json()["status"] == "pending"
    await _stay(engine, town.community_id, town.resident.user_id, 90)
    before = await client.get(f"/api/v1/organisations/{organisation_id}/agreements", headers=member.headers)
    assert before.json()["items"][0]["progress"]["volunteer_hours"] == 2
    decided = await client.post(
        f"/api/v1/registrations/{registered.json()['id']}/decision",
        json={"decision": "confirm"},
        headers=town.admin.headers,
    )
    assert decided.status_code == 200 and decided.json()["status"] == "confirmed"
    answer = await client.get(f"/api/v1/organisations/{organisation_id}/agreements", headers=member.headers)
    assert answer.status_code == 200, answer.text
    (item,) = answer.json()["items"]
    assert item["id"] == agreement_id and item["community_id"] == town.community_id and item["year"] == year
    assert item["commitments"] == {"wishes": 5, "volunteer_hours": 10, "resources": 2, "projects": 1}
    assert item["progress"] == {"wishes": 0, "volunteer_hours": 3, "resources": 2, "projects": 1}
    assert not PHONE_RE.search(answer.text)


async def test_other_domains_count_their_part_through_the_registry(
    client: Any, town: Town, engine: Any
) -> None:
    organisation_id, (member,) = await make_organisation(client, town)
    year = clock.local(clock.now()).year
    await make_agreement(client, town, organisation_id, year, wishes=4)
    seen: list[dict[str, Any]] = []

    async def delivered(session: Any, **query: Any) -> int:
        seen.append(query)
        return 3

    before = progress.registered("wishes")
    progress.register("wishes", delivered)
    try:
        answer = await client.get(
            f"/api/v1/organisations/{organisation_id}/agreements", headers=member.headers
        )
    finally:
        progress.register("wishes", before)
    assert answer.json()["items"][0]["progress"]["wishes"] == 3
    assert seen[0]["organisation_id"] == organisation_id and seen[0]["community_id"] == town.community_id
    assert member.user_id in seen[0]["user_ids"]
    assert seen[0]["start"].year == seen[0]["end"].year - 1


async def test_who_sees_an_organisations_agreements(client: Any, town: Town, factory: Factory) -> None:
    organisation_id, (member,) = await make_organisation(client, town)
    year = clock.local(clock.now()).year
    await make_agreement(client, town, organisation_id, year)
    other = await factory.tenant()
    other_admin = await login(client, other.admin)
    url = f"/api/v1/organisations/{organisation_id}/agreements"
    assert len((await client.get(url, headers=town.admin.headers)).json()["items"]) == 1
    for person in (town.resident, other_admin):
        assert (await client.get(url, headers=person.headers)).status_code == 404
    there = Town(other, other_admin, other_admin, other_admin, other_admin)
    await make_agreement(client, there, organisation_id, year)
    mine = await client.get(url, headers=other_admin.headers)
    assert [i["community_id"] for i in mine.json()["items"]] == [other.community_id]
    assert len((await client.get(url, headers=member.headers)).json()["items"]) == 2


async def test_agreement_rules(client: Any, town: Town) -> None:
    organisation_id, _ = await make_organisation(client, town)
    provider_id, _ = await make_organisation(client, town, kinds=["provider"])
    url = f"/api/v1/communities/{town.community_id}/agreements"
    ok = {"organisation_id": organisation_id, "year": 2030, "commitments": {"wishes": 2}}
    assert (await client.post(url, json=ok, headers=town.staff.headers)).status_code == 403
    first = await client.post(
        url,
        json={**ok, "tasks": [{"title": "重阳节慰问", "due_on": "2030-10-01"}]},
        headers=town.admin.headers,
    )
    assert first.status_code == 201
    again = await client.post(url, json=ok, headers=town.admin.headers)
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    for body in (
        {**ok, "organisation_id": provider_id},
        {**ok, "year": 1999},
        {**ok, "year": 2031, "commitments": {"wishes": -1}},
        {**ok, "year": 2032, "tasks": [{"title": "跨年", "due_on": "2033-01-01"}]},
    ):
        answer = await client.post(url, json=body, headers=town.admin.headers)
        assert answer.status_code == 422, (body, answer.text)
    missing = await client.post(
        url, json={**ok, "organisation_id": 2**62, "year": 2034}, headers=town.admin.headers
    )
    assert missing.status_code == 404


async def test_registrations_need_a_membership_and_are_decided_once(
    client: Any, town: Town, factory: Factory
) -> None:
    organisation_id, _ = await make_organisation(client, town)
    other = await factory.tenant()
    body = {"community_id": other.community_id, "organisation_id": organisation_id}
    assert (
        await client.post("/api/v1/registrations", json=body, headers=town.resident.headers)
    ).status_code == 403
    body["community_id"] = town.community_id
    made = await client.post("/api/v1/registrations", json=body, headers=town.resident.headers)
    assert made.status_code == 201
    twice = await client.post("/api/v1/registrations", json=body, headers=town.resident.headers)
    assert twice.status_code == 409
    decision = f"/api/v1/registrations/{made.json()['id']}/decision"
    assert (
        await client.post(decision, json={"decision": "reject"}, headers=town.staff.headers)
    ).status_code == 403
    assert (await client.post(decision, json={"decision": "reject"}, headers=town.admin.headers)).json() == {
        "id": made.json()["id"],
        "status": "rejected",
    }
    assert (
        await client.post(decision, json={"decision": "confirm"}, headers=town.admin.headers)
    ).status_code == 409
    # A refused registration may be made again.
    again = await client.post("/api/v1/registrations", json=body, headers=town.resident.headers)
    assert again.status_code == 201 and again.json()["status"] == "pending"


async def test_progress_is_rounded_to_the_nearest_percent(client: Any, town: Town) -> None:
    """2 of 3 promised wishes is 67 %, on the agreement's page and in the partner units' ranking
    (the mean of each commitment's exact share, rounded once)."""
    organisation_id, _ = await make_organisation(client, town)
    year = clock.local(clock.now()).year
    agreement_id = await make_agreement(client, town, organisation_id, year, wishes=3)

    async def delivered(session: Any, **query: Any) -> int:
        return 2

    before = progress.registered("wishes")
    progress.register("wishes", delivered)
    try:
        await session_of(client, town.admin)
        page = await client.get(f"/partners/agreements/{agreement_id}")
    finally:
        progress.register("wishes", before)
    assert page.status_code == 200, page.text[:300]
    assert 'value="67"' in page.text and "67%" in page.text and "66%" not in page.text
    assert overall_percent([Share(2, 3), Share(2, 3)]) == 67
    assert overall_percent([Share(2, 3), Share(1, 3), Share(5, 0)]) == 50
    assert overall_percent([Share(4, 3), Share(1, 3)]) == 67  # a share past its promise counts as kept
    assert Share(199, 200).percent == 99  # nearly kept is not shown as kept


async def test_an_agreements_hours_say_they_are_hours(client: Any, town: Town) -> None:
    """The agreement's page and the partner units' page read 志愿服务时长 60 beside counts of wishes
    and resources, where the dashboards' ranking reads 志愿服务时长（小时）: the pages and the form
    that signs an agreement name the unit too."""
    organisation_id, _ = await make_organisation(client, town)
    year = clock.local(clock.now()).year
    agreement_id = await make_agreement(client, town, organisation_id, year, wishes=3)
    await session_of(client, town.admin)
    for path in (f"/partners/agreements/{agreement_id}", f"/partners/admin/c/{town.community_id}"):
        page = await client.get(path, headers={"Accept-Language": "zh-CN"})
        assert page.status_code == 200 and "<td>志愿服务时长（小时）</td>" in page.text, path
    form = (
        await client.get(f"/partners/admin/c/{town.community_id}", headers={"Accept-Language": "en"})
    ).text
    assert '">Volunteer hours (hours)</label>' in form
