"""The export of every contribution is an export of app.core.exports, for the community's admin
only: donors' contact details are in it. A street admin, who may open the exports page, neither
sees it listed nor may take it (403, in words on a page), and no one opens a run another admin
made; a long one is made by the exports' job behind its progress page."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import jobs
from app.reports import exporting
from app.reports import jobs as _report_jobs  # noqa: F401 - registers make_exports
from app.reports.models import ExportRun
from tests.api.helpers import post_form, session_of
from tests.conftest import Factory, Person, Tenant, login


def _csv(body: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


async def _made(engine: Any, run_id: int) -> None:
    """Runs the exports' job until the run is done (a served app on this database may take it)."""
    for _ in range(600):
        await jobs.run_now(engine, "app.reports.jobs.make_exports")
        async with async_sessionmaker(engine)() as s:
            run = await s.get(ExportRun, run_id)
            if run is not None and run.status == "done":
                return
        await asyncio.sleep(0.2)
    raise AssertionError(f"export run {run_id} not done")


async def _wish_with_goal(client: Any, tenant: Tenant, admin: Person, resident: Person) -> int:
    answer = await client.post(
        f"/api/v1/communities/{tenant.community_id}/wishes",
        json={"title": "楼道扶手", "description": "三楼扶手松了", "funding_goal_cents": 10_000_000},
        headers=resident.headers,
    )
    assert answer.status_code == 201, answer.text
    wish_id = int(answer.json()["id"])
    review = await client.post(
        f"/api/v1/wishes/{wish_id}/review", json={"decision": "publish"}, headers=admin.headers
    )
    assert review.status_code == 200, review.text
    return wish_id


async def test_only_the_community_admin_takes_the_contributions(
    client: Any, factory: Factory, engine: Any
) -> None:
    tenant = await factory.tenant()
    cid = tenant.community_id
    admin = await login(client, tenant.admin)
    resident = await login(client, await factory.person(tenant, name="林秀英"))
    other_admin = await factory.person(tenant, roles=["admin"], name="副主任")
    boss = await factory.person(tenant, name="街道干部")
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            text("INSERT INTO street_roles (user_id, street_id, role) VALUES (:u, :s, 'street_admin')"),
            {"u": boss.user_id, "s": tenant.street_id},
        )
    wish_id = await _wish_with_goal(client, tenant, admin, resident)
    await session_of(client, admin)
    recorded = await post_form(
        client,
        f"/payments/admin/wish/{wish_id}/contributions",
        {"source": "partner", "amount": "88.5", "name": "=东街物业", "show_name": "", "note": "共建"},
    )
    assert recorded.status_code == 303, recorded.text

    # The community's admin: listed on the exports page and the goals page, and the file's rows
    # in the reader's words.
    listed = await client.get(f"/admin/c/{cid}/exports")
    assert "/exports/contributions.xlsx" in listed.text
    goals = await client.get(f"/payments/admin/c/{cid}")
    assert f"/admin/c/{cid}/exports/contributions.csv" in goals.text
    mine = await client.get(f"/admin/c/{cid}/exports/contributions.csv")
    assert mine.status_code == 200, mine.text[:300]
    rows = _csv(mine.text)
    assert rows[0][:6] == ["时间", "类型", "目标编号", "名称", "来源", "金额（元）"]
    assert [r[1:9] for r in rows[1:]] == [
        ["微心愿", str(wish_id), "楼道扶手", "社会筹（共建单位）", "88.50", "'=东街物业", "否", "共建"]
    ]

    # The street admin opens the exports page, without the contributions, and may not take them.
    await session_of(client, boss)
    listed = await client.get(f"/admin/c/{cid}/exports")
    assert listed.status_code == 200 and "/exports/hours.xlsx" in listed.text
    assert "contributions" not in listed.text
    refused = await client.get(f"/admin/c/{cid}/exports/contributions.xlsx", headers={"Accept": "text/html"})
    assert refused.status_code == 403 and "您没有权限进行此操作。" in refused.text
    assert (await client.get(f"/payments/admin/c/{cid}/contributions.csv")).status_code == 403
    goals = await client.get(f"/payments/admin/c/{cid}")
    assert goals.status_code == 200 and "exports/contributions" not in goals.text

    # A long export is made by the job behind a progress page, for the admin who asked only.
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            text(
                "INSERT INTO funding_contributions (community_id, target_kind, target_id, source,"
                " amount_cents, name) SELECT :c, 'wish', :w, 'residents', 100, '居民' || g"
                " FROM generate_series(1, :n) g"
            ),
            {"c": cid, "w": wish_id, "n": exporting.INLINE_ROWS},
        )
    await session_of(client, admin)
    asked = await client.get(f"/admin/c/{cid}/exports/contributions.csv", follow_redirects=False)
    assert asked.status_code == 303, asked.text[:300]
    run_page = asked.headers["location"]
    run_id = int(run_page.rsplit("/", 1)[1])
    await _made(engine, run_id)
    made = await client.get(f"{run_page}/file")
    assert made.status_code == 200
    assert len(_csv(made.text)) == 1 + 1 + exporting.INLINE_ROWS
    for person in (boss, other_admin):
        await session_of(client, person)
        for url in (run_page, f"{run_page}/file"):
            assert (await client.get(url)).status_code in (403, 404), (person.display_name, url)
    async with async_sessionmaker(engine)() as s:
        audited = (
            (
                await s.execute(
                    text(
                        "SELECT actor_id FROM audit_entries WHERE action = 'reports.export'"
                        " AND community_id = :c AND target LIKE :t"
                    ),
                    {"c": cid, "t": f"c{cid}-contributions-%"},
                )
            )
            .scalars()
            .all()
        )
    assert audited == [tenant.admin.user_id, tenant.admin.user_id]
