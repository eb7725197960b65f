"""The export of every contribution is an export of app.core.exports, for the community's admins
and its street's admins; the donors' contact column is in the community admin's file only. No
one opens a run another admin made, nor a run with contacts once they may no longer read them; a
long one is made by the exports' job behind its progress page."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import clock, jobs
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


async def test_a_street_admin_takes_the_contributions_without_the_donors_contacts(
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
    # in the reader's words, with the donors' contact column; named by the day it is taken.
    listed = await client.get(f"/admin/c/{cid}/exports")
    assert "/exports/contributions.xlsx" in listed.text
    goals = await client.get(f"/payments/admin/c/{cid}")
    assert f"/admin/c/{cid}/exports/contributions.csv" in goals.text and "data-no-contacts" not in goals.text
    mine = await client.get(f"/admin/c/{cid}/exports/contributions.csv")
    assert mine.status_code == 200, mine.text[:300]
    async with async_sessionmaker(engine)() as s:
        zone = (
            await s.execute(text("SELECT time_zone FROM communities WHERE id = :c"), {"c": cid})
        ).scalar_one()
    today = clock.today(zone).isoformat()
    assert mine.headers["content-disposition"] == f'attachment; filename="c{cid}-contributions-{today}.csv"'
    rows = _csv(mine.text)
    assert rows[0][:6] == ["时间", "类型", "目标编号", "名称", "来源", "金额（元）"]
    assert rows[0][-1] == "联系方式" and len(rows[0]) == 13
    expected = [
        ["微心愿", str(wish_id), "楼道扶手", "社会筹（共建单位）", "88.50", "'=东街物业", "否", "共建"]
    ]
    assert [r[1:9] for r in rows[1:]] == expected

    # The street admin: the export is listed and taken, the same rows without the contact column
    # (in either format), and the goals page links to it and says so.
    await session_of(client, boss)
    listed = await client.get(f"/admin/c/{cid}/exports")
    assert listed.status_code == 200 and "/exports/hours.xlsx" in listed.text
    assert "/exports/contributions.xlsx" in listed.text
    theirs = await client.get(f"/admin/c/{cid}/exports/contributions.csv")
    assert theirs.status_code == 200, theirs.text[:300]
    rows = _csv(theirs.text)
    assert rows[0] == _csv(mine.text)[0][:12] and "联系方式" not in rows[0]
    assert [r[1:9] for r in rows[1:]] == expected and all(len(r) == 12 for r in rows)
    book = await client.get(f"/admin/c/{cid}/exports/contributions.xlsx", headers={"Accept-Language": "en"})
    assert book.status_code == 200
    sheet = list(load_workbook(io.BytesIO(book.content)).active.iter_rows(values_only=True))
    assert "Contact" not in sheet[0] and len(sheet[0]) == 12
    old = await client.get(f"/payments/admin/c/{cid}/contributions.csv", follow_redirects=False)
    assert old.status_code == 303 and old.headers["location"] == f"/admin/c/{cid}/exports/contributions.csv"
    goals = await client.get(f"/payments/admin/c/{cid}")
    assert goals.status_code == 200 and f"/admin/c/{cid}/exports/contributions.xlsx" in goals.text
    assert "data-no-contacts" in goals.text and "不含捐款人联系方式" in goals.text

    # A long export is made by the job behind a progress page, for the admin who asked only; the
    # street admin's own run of it has no contact column.
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
    assert len(_csv(made.text)) == 1 + 1 + exporting.INLINE_ROWS and _csv(made.text)[0][-1] == "联系方式"
    for person in (boss, other_admin):
        await session_of(client, person)
        for url in (run_page, f"{run_page}/file"):
            assert (await client.get(url)).status_code in (403, 404), (person.display_name, url)
    await session_of(client, boss)
    asked = await client.get(f"/admin/c/{cid}/exports/contributions.csv", follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"] != run_page
    their_run = asked.headers["location"]
    await _made(engine, int(their_run.rsplit("/", 1)[1]))
    made = await client.get(f"{their_run}/file")
    assert made.status_code == 200
    lines = _csv(made.text)
    assert len(lines) == 1 + 1 + exporting.INLINE_ROWS and "联系方式" not in lines[0]
    assert all(len(r) == 12 for r in lines)

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
    assert sorted(audited) == sorted([tenant.admin.user_id] * 2 + [boss.user_id] * 3)


async def test_a_run_with_the_donors_contacts_is_not_opened_once_its_asker_is_no_longer_the_admin(
    client: Any, factory: Factory, engine: Any
) -> None:
    """A run is its asker's, with the contact column if they were the community's admin when they
    asked; a street admin who is no longer the community's admin may take the export again,
    without it, but not open that run."""
    tenant = await factory.tenant()
    cid = tenant.community_id
    both = await factory.person(tenant, roles=["admin"], name="兼任主任")
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            text("INSERT INTO street_roles (user_id, street_id, role) VALUES (:u, :s, 'street_admin')"),
            {"u": both.user_id, "s": tenant.street_id},
        )
        await s.execute(
            text(
                "INSERT INTO funding_contributions (community_id, target_kind, target_id, source,"
                " amount_cents, name) SELECT :c, 'wish', 1, 'residents', 100, '居民' || g"
                " FROM generate_series(1, :n) g"
            ),
            {"c": cid, "n": exporting.INLINE_ROWS + 1},
        )
    await session_of(client, both)
    asked = await client.get(f"/admin/c/{cid}/exports/contributions.csv", follow_redirects=False)
    assert asked.status_code == 303, asked.text[:300]
    run_page = asked.headers["location"]
    await _made(engine, int(run_page.rsplit("/", 1)[1]))
    made = await client.get(f"{run_page}/file")
    assert made.status_code == 200 and _csv(made.text)[0][-1] == "联系方式"

    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            text("UPDATE memberships SET roles = '{}' WHERE user_id = :u AND community_id = :c"),
            {"u": both.user_id, "c": cid},
        )
    await session_of(client, both)
    assert (await client.get(f"/payments/admin/c/{cid}")).status_code == 200
    for url in (run_page, f"{run_page}/file"):
        assert (await client.get(url)).status_code == 403, url
    again = await client.get(f"/admin/c/{cid}/exports/contributions.csv", follow_redirects=False)
    assert again.status_code == 303 and again.headers["location"] != run_page
    await _made(engine, int(again.headers["location"].rsplit("/", 1)[1]))
    theirs = await client.get(f"{again.headers['location']}/file")
    assert theirs.status_code == 200 and "联系方式" not in _csv(theirs.text)[0]
