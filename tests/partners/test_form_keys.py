"""The partners' creating forms sent twice (a double tap, or a resend after a slow answer): an
agreement, a task line, a resource, a need and a project are each made once, and both sendings
land where the first did; two sendings committing at the same moment make one row too."""

from __future__ import annotations

import re
from typing import Any

from app.core import clock
from app.core.authz import Actor
from app.partners import agreements, lists
from tests.api.helpers import post_form, session_of
from tests.conftest import count, sent_twice_at_once
from tests.partners.conftest import Town, make_agreement, make_organisation

KEY = re.compile(r'name="key" value="([^"]+)"')


async def twice(client: Any, page: str, action: str, fields: dict[str, Any]) -> str:
    """Sends the form of `page` posting to `action` twice with its key; both land alike."""
    shown = await client.get(page)
    form = shown.text[shown.text.index(f'action="{action}"') :]
    key = KEY.search(form[: form.index("</form>")]).group(1)
    first, second = [await post_form(client, action, {**fields, "key": key}) for _ in "12"]
    assert (first.status_code, second.status_code) == (303, 303), first.text
    assert first.headers["location"] == second.headers["location"]
    return str(first.headers["location"])


async def test_an_agreement_and_a_task_line_sent_twice_are_made_once(
    client: Any, town: Town, db: Any
) -> None:
    organisation_id, _members = await make_organisation(client, town)
    year = clock.local(clock.now()).year
    await session_of(client, town.admin)
    cid = town.community_id
    signed = await twice(
        client,
        f"/partners/admin/c/{cid}",
        f"/partners/admin/c/{cid}/agreements",
        {"organisation_id": organisation_id, "year": year, "wishes": "6"},
    )
    assert "saved=agreement" in signed  # the agreement's page, not 此单位该年度已有协议
    agreements_made = "SELECT count(*) FROM agreements WHERE organisation_id = :o"
    assert await count(db, agreements_made, o=organisation_id) == 1
    sheet = signed.split("?")[0]
    await twice(client, sheet, f"{sheet}/tasks", {"title": "重阳节健康义诊", "due_on": f"{year}-10-29"})
    tasks = (
        "SELECT count(*) FROM agreement_tasks t JOIN agreements a ON a.id = t.agreement_id "
        "WHERE a.organisation_id = :o"
    )
    assert await count(db, tasks, o=organisation_id) == 1


async def test_a_resource_a_need_and_a_project_sent_twice_are_made_once(
    client: Any, town: Town, db: Any
) -> None:
    organisation_id, (member,) = await make_organisation(client, town)
    await make_agreement(client, town, organisation_id, clock.local(clock.now()).year, resources=2)
    cid = town.community_id
    await session_of(client, member)
    office = f"/partners/o/{organisation_id}"
    await twice(
        client,
        office,
        f"{office}/resources",
        {"community_id": cid, "title": "双击的健康讲座", "category": "medical"},
    )
    assert await count(db, "SELECT count(*) FROM resources WHERE title = '双击的健康讲座'") == 1
    await session_of(client, town.admin)
    lists_page = f"/partners/c/{cid}/lists"
    await twice(
        client, lists_page, f"/partners/c/{cid}/needs", {"title": "双击的法律咨询", "category": "legal"}
    )
    assert await count(db, "SELECT count(*) FROM needs WHERE title = '双击的法律咨询'") == 1
    project = await twice(
        client,
        lists_page,
        f"/partners/c/{cid}/projects",
        {"title": "双击的法律服务进社区", "owner_user_id": town.staff.user_id, "due_on": "2030-05-01"},
    )
    assert project.startswith("/partners/projects/")
    assert await count(db, "SELECT count(*) FROM projects WHERE title = '双击的法律服务进社区'") == 1


async def test_the_partners_forms_committing_twice_at_once_make_one_row_each(
    client: Any, town: Town, engine: Any, db: Any
) -> None:
    organisation_id, (member,) = await make_organisation(client, town)
    year = clock.local(clock.now()).year
    cid = town.community_id
    admin = Actor(town.admin.user_id, "管理员", {cid: frozenset({"admin"})})
    # The agreement's twin waits on the key, or on (organisation, community, year), and still
    # answers the first's agreement rather than "already has an agreement".
    made, again = await sent_twice_at_once(
        engine,
        lambda s: agreements.create_agreement(
            s,
            admin,
            cid,
            agreements.AgreementInput(organisation_id, year, wishes=3),
            form_key="same-agreement",
        ),
    )
    assert again.id == made.id
    task = agreements.TaskInput("同时送达的任务", clock.today().replace(year=year, month=6, day=1))
    made, again = await sent_twice_at_once(
        engine, lambda s: agreements.add_task(s, admin, made.id, task, form_key="same-task")
    )
    assert again.id == made.id
    unit = Actor(member.user_id, "成员", {})
    made, again = await sent_twice_at_once(
        engine,
        lambda s: lists.add_resource(
            s,
            unit,
            organisation_id,
            cid,
            title="同时送达的资源",
            category="medical",
            form_key="same-resource",
        ),
    )
    assert again.id == made.id
    made, again = await sent_twice_at_once(
        engine,
        lambda s: lists.add_need(
            s, admin, cid, title="同时送达的需求", category="legal", form_key="same-need"
        ),
    )
    assert again.id == made.id
    project = lists.ProjectInput("同时送达的项目", town.staff.user_id, clock.today(), [], [])
    made, again = await sent_twice_at_once(
        engine, lambda s: lists.create_project(s, admin, cid, project, form_key="same-project")
    )
    assert again.id == made.id
    for sql in (
        "SELECT count(*) FROM agreements WHERE organisation_id = :o",
        "SELECT count(*) FROM agreement_tasks WHERE title = '同时送达的任务' AND created_by = :a",
        "SELECT count(*) FROM resources WHERE organisation_id = :o",
        "SELECT count(*) FROM needs WHERE title = '同时送达的需求' AND created_by = :a",
        "SELECT count(*) FROM projects WHERE title = '同时送达的项目' AND created_by = :a",
    ):
        assert await count(db, sql, o=organisation_id, a=town.admin.user_id) == 1, sql
