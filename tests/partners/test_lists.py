"""The three lists: resources by partner members, needs by grid workers and staff, projects by the
admin with a note at each step, and the matching view."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import clock
from app.core.authz import Actor
from app.partners import lists, rules
from tests.api.helpers import page_login
from tests.conftest import Factory, login
from tests.partners.conftest import PHONE_RE, Town, make_organisation


async def _resource(client: Any, member: Any, organisation_id: int, community_id: int, **fields: Any) -> Any:
    body = {"community_id": community_id, "title": "义诊 每季度一次", "category": "medical", **fields}
    return await client.post(
        f"/api/v1/organisations/{organisation_id}/resources", json=body, headers=member.headers
    )


async def _need(client: Any, person: Any, community_id: int, **fields: Any) -> Any:
    body = {"title": "独居老人体检", "category": "Medical ", **fields}
    return await client.post(f"/api/v1/communities/{community_id}/needs", json=body, headers=person.headers)


async def test_partner_members_list_resources_only_where_they_may_act(
    client: Any, town: Town, factory: Factory
) -> None:
    organisation_id, (member,) = await make_organisation(client, town)
    created = await _resource(client, member, organisation_id, town.community_id)
    assert created.status_code == 201, created.text
    elsewhere = await factory.tenant()
    refused = await _resource(client, member, organisation_id, elsewhere.community_id)
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    # Not a member of the organisation: the organisation is not found for them.
    for person in (town.resident, town.admin):
        answer = await _resource(client, person, organisation_id, town.community_id)
        assert answer.status_code == 404, answer.text
    provider_id, (shopkeeper,) = await make_organisation(client, town, kinds=["provider"])
    not_partner = await _resource(client, shopkeeper, provider_id, town.community_id)
    assert not_partner.status_code == 403
    listed = await client.get(f"/api/v1/communities/{town.community_id}/resources", headers=member.headers)
    assert listed.status_code == 200
    assert [(i["id"], i["status"]) for i in listed.json()["items"]] == [(created.json()["id"], "available")]
    assert not PHONE_RE.search(listed.text)


async def test_grid_workers_and_staff_list_needs_residents_do_not(client: Any, town: Town) -> None:
    for person in (town.grid, town.staff, town.admin):
        response = await _need(client, person, town.community_id)
        assert response.status_code == 201, response.text
    refused = await _need(client, town.resident, town.community_id)
    assert refused.status_code == 403
    listed = await client.get(f"/api/v1/communities/{town.community_id}/needs", headers=town.grid.headers)
    items = listed.json()["items"]
    assert len(items) == 3 and {i["status"] for i in items} == {"open"}
    assert {i["category"] for i in items} == {"medical"}
    hidden = await client.get(f"/api/v1/communities/{town.community_id}/needs", headers=town.resident.headers)
    assert hidden.status_code == 403
    bad = await _need(client, town.grid, town.community_id, title="")
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    # A category past 50 characters is refused, not stored cut short.
    long = await _need(client, town.grid, town.community_id, category="长期照护" * 12 + "需求表")
    assert long.status_code == 422 and long.json()["code"] == "validation_error", long.text
    listed = await client.get(f"/api/v1/communities/{town.community_id}/needs", headers=town.grid.headers)
    assert len(listed.json()["items"]) == 3
    fifty = await _need(client, town.grid, town.community_id, category=" " + "长期照护" * 12 + "需求 ")
    assert fifty.status_code == 201, fifty.text


async def test_a_project_moves_one_step_at_a_time_each_with_a_note(client: Any, town: Town) -> None:
    organisation_id, (member,) = await make_organisation(client, town)
    resource_id = (await _resource(client, member, organisation_id, town.community_id)).json()["id"]
    need_id = (await _need(client, town.grid, town.community_id)).json()["id"]
    url = f"/api/v1/communities/{town.community_id}/projects"
    body = {
        "title": "独居老人上门体检",
        "need_ids": [need_id],
        "resource_ids": [resource_id],
        "owner_user_id": member.user_id,
        "due_on": "2030-06-30",
        "funding_goal_cents": 500000,
    }
    assert (await client.post(url, json=body, headers=town.staff.headers)).status_code == 403
    created = await client.post(url, json=body, headers=town.admin.headers)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "open"
    project_id = created.json()["id"]
    step = f"/api/v1/projects/{project_id}/steps"
    skipped = await client.post(step, json={"status": "done", "note": "跳过"}, headers=town.admin.headers)
    assert skipped.status_code == 409 and skipped.json()["code"] == "conflict"
    no_note = await client.post(step, json={"status": "in_progress", "note": " "}, headers=town.admin.headers)
    assert no_note.status_code == 422
    assert (
        await client.post(step, json={"status": "in_progress", "note": "x"}, headers=town.resident.headers)
    ).status_code == 404
    for status, person in (("in_progress", town.admin), ("done", member), ("followed_up", town.admin)):
        answer = await client.post(
            step, json={"status": status, "note": f"{status} 备注"}, headers=person.headers
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"status": status}
    again = await client.post(
        step, json={"status": "followed_up", "note": "再次"}, headers=town.admin.headers
    )
    assert again.status_code == 409 and again.json()["code"] == "already_done"
    listed = await client.get(url, headers=town.admin.headers)
    assert [(i["id"], i["status"]) for i in listed.json()["items"]] == [(project_id, "followed_up")]
    needs = await client.get(f"/api/v1/communities/{town.community_id}/needs", headers=town.admin.headers)
    assert [i["status"] for i in needs.json()["items"]] == ["matched"]
    resources = await client.get(
        f"/api/v1/communities/{town.community_id}/resources", headers=town.admin.headers
    )
    assert [i["status"] for i in resources.json()["items"]] == ["used"]


async def test_projects_take_only_this_communitys_needs_resources_and_people(
    client: Any, town: Town, factory: Factory
) -> None:
    other = await factory.tenant()
    other_admin = await login(client, other.admin)
    foreign_need = await _need(client, other_admin, other.community_id)
    url = f"/api/v1/communities/{town.community_id}/projects"
    base = {"title": "项目", "owner_user_id": town.staff.user_id, "due_on": "2030-01-31"}
    cases = [
        {**base, "need_ids": [foreign_need.json()["id"]]},
        {**base, "resource_ids": [2**62]},
        {**base, "owner_user_id": other_admin.user_id},
        {**base, "due_on": "9999-01-01"},
        {**base, "funding_goal_cents": 0},
    ]
    for body in cases:
        answer = await client.post(url, json=body, headers=town.admin.headers)
        assert answer.status_code == 422, (body, answer.text)
    assert (await client.post(url, json=base, headers=town.admin.headers)).status_code == 201


async def test_matching_puts_needs_without_a_project_beside_unused_resources(
    client: Any, town: Town, engine: Any
) -> None:
    organisation_id, (member,) = await make_organisation(client, town)
    medical = (await _resource(client, member, organisation_id, town.community_id)).json()["id"]
    used = (
        await _resource(
            client, member, organisation_id, town.community_id, title="法律咨询", category="legal"
        )
    ).json()["id"]
    open_need = (await _need(client, town.grid, town.community_id)).json()["id"]
    taken_need = (
        await _need(client, town.grid, town.community_id, title="遗嘱咨询", category="legal")
    ).json()["id"]
    await _need(client, town.grid, town.community_id, title="楼道灯坏", category="repair")
    created = await client.post(
        f"/api/v1/communities/{town.community_id}/projects",
        json={
            "title": "法律进社区",
            "need_ids": [taken_need],
            "resource_ids": [used],
            "owner_user_id": town.staff.user_id,
            "due_on": date(2030, 3, 1).isoformat(),
        },
        headers=town.admin.headers,
    )
    assert created.status_code == 201
    admin = Actor(town.admin.user_id, "管理员", {town.community_id: frozenset({"admin"})})
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        matches = await lists.matching(s, admin, town.community_id)
    assert [(m.category, [n.id for n in m.needs], [r.resource.id for r in m.resources]) for m in matches][
        :1
    ] == [("medical", [open_need], [medical])]
    assert {m.category for m in matches} == {"medical", "repair"}


async def test_a_project_past_its_due_date_and_not_done_says_it_is_overdue(
    client: Any, town: Town, db: Any
) -> None:
    """A project in progress read 进行中 · 截止 2026-11-28 on the first of December, as one on
    time would: past its due date and not done, it says 已逾期 beside the date; done, it does not."""
    created = await client.post(
        f"/api/v1/communities/{town.community_id}/projects",
        json={"title": "防诈骗讲座进社区", "owner_user_id": town.staff.user_id, "due_on": "2030-06-30"},
        headers=town.admin.headers,
    )
    assert created.status_code == 201, created.text
    project_id = created.json()["id"]
    past = clock.today("Asia/Shanghai") - timedelta(days=3)
    await db.execute(text("UPDATE projects SET due_on = :d WHERE id = :p"), {"d": past, "p": project_id})
    await db.commit()
    await page_login(client, town.admin)
    listed = (await client.get(f"/partners/c/{town.community_id}/lists")).text
    row = listed.split(f'href="/partners/projects/{project_id}"', 1)[1].split("</li>", 1)[0]
    assert f"截止 {past.isoformat()} · <strong data-overdue>已逾期</strong>" in row
    page = (await client.get(f"/partners/projects/{project_id}")).text
    assert "data-overdue>已逾期<" in page
    await db.execute(text("UPDATE projects SET status = 'done' WHERE id = :p"), {"p": project_id})
    await db.commit()
    listed = (await client.get(f"/partners/c/{town.community_id}/lists")).text
    assert (
        "data-overdue" not in listed.split(f'href="/partners/projects/{project_id}"', 1)[1].split("</li>")[0]
    )


def test_a_project_is_overdue_after_its_due_day_until_it_is_done() -> None:
    due, today = date(2026, 11, 28), date(2026, 12, 1)
    assert rules.overdue("open", due, today) and rules.overdue("in_progress", due, today)
    assert not rules.overdue("done", due, today) and not rules.overdue("followed_up", due, today)
    assert not rules.overdue("in_progress", today, today)  # due today is not late yet
