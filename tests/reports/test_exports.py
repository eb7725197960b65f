"""Exports: every registered export answers a real .xlsx and a CSV of the same rows, the rows
equal what the database holds (a round trip through openpyxl), a file's name says no person, and
only the community's admins (and its street admin) may take one."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from datetime import datetime, timedelta
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import clock, exports, figures, jobs
from app.reports import jobs as _report_jobs  # noqa: F401 - registers make_exports
from app.reports.models import ExportRun
from tests.api.helpers import session_of
from tests.conftest import Factory, login
from tests.reports.conftest import Town, _award

RESIDENTS = 20_000
ZONE = "Asia/Shanghai"


def _sheet(body: bytes) -> list[tuple[Any, ...]]:
    book = load_workbook(io.BytesIO(body), read_only=True)
    return [tuple(row) for row in book.active.iter_rows(values_only=True)]


async def _made(engine: Any, run_id: int) -> None:
    """Runs the export job until the run is done. A served app on this database runs the same job,
    woken when the run was queued, and may have taken the run first: then this waits for it."""
    for _ in range(600):
        await jobs.run_now(engine, "app.reports.jobs.make_exports")
        async with async_sessionmaker(engine)() as s:
            run = await s.get(ExportRun, run_id)
            if run is not None and run.status == "done":
                return
        await asyncio.sleep(0.2)
    raise AssertionError(f"export run {run_id} not done after two minutes")


async def test_hours_of_twenty_thousand_residents_round_trip_through_xlsx(
    client: Any, factory: Factory, engine: Any
) -> None:
    tenant = await factory.tenant()
    cid = tenant.community_id
    admin = await login(client, tenant.admin)
    first = clock.today(ZONE).replace(day=1)
    at = datetime(first.year, first.month, first.day, 9, tzinfo=clock.zone(ZONE))
    async with async_sessionmaker(engine)() as s, s.begin():
        event_id = (
            await s.execute(
                text(
                    "INSERT INTO events (community_id, title, category, starts_at, ends_at, status) "
                    "VALUES (:c, '清扫', 'cleanup', :s, :e, 'closed') RETURNING id"
                ),
                {"c": cid, "s": at, "e": at + timedelta(hours=3)},
            )
        ).scalar_one()
        # 20,000 residents (no phone), each a member with one credited stay of 30 to 149 minutes:
        # one INSERT ... SELECT generate_series, the member and the stay in its CTEs.
        await s.execute(
            text(
                "WITH made AS (INSERT INTO users (phone, display_name) "
                " SELECT NULL, '居民' || lpad(g::text, 5, '0') FROM generate_series(1, :n) g RETURNING id),"
                " joined AS (INSERT INTO memberships (user_id, community_id, roles) "
                " SELECT id, :c, ARRAY['resident'] FROM made RETURNING user_id) "
                "INSERT INTO event_checkins (community_id, event_id, user_id, seq, checked_in_at,"
                " checked_out_at, method_in, minutes, points, award_status) "
                "SELECT :c, :e, user_id, 1, CAST(:at AS timestamptz), CAST(:at AS timestamptz)"
                " + interval '1 hour', 'witnessed', 30 + user_id % 120, 0, 'awarded' FROM joined"
            ),
            {"n": RESIDENTS, "c": cid, "e": event_id, "at": at},
        )
        expected = {
            (r.id, r.display_name, figures.hours(r.minutes), r.minutes)
            for r in (
                await s.execute(
                    text(
                        "SELECT u.id, u.display_name, c.minutes FROM event_checkins c JOIN users u "
                        "ON u.id = c.user_id WHERE c.community_id = :c"
                    ),
                    {"c": cid},
                )
            ).all()
        }
    assert len(expected) == RESIDENTS
    await session_of(client, admin)
    query = f"from={first.isoformat()}&to={first.isoformat()}"
    # Too long to make while the admin waits: a run is queued and its page follows it.
    asked = await client.get(f"/admin/c/{cid}/exports/hours.xlsx?{query}", follow_redirects=False)
    assert asked.status_code == 303, asked.text[:300]
    run_page = asked.headers["location"]
    run_id = int(run_page.rsplit("/", 1)[1])
    waiting = await client.get(run_page)
    assert waiting.status_code == 200 and 'hx-trigger="every 1s"' in waiting.text
    assert '<meta http-equiv="refresh"' in waiting.text
    # Asking again makes no second run.
    again = await client.get(f"/admin/c/{cid}/exports/hours.xlsx?{query}", follow_redirects=False)
    assert again.headers["location"] == run_page
    started = time.perf_counter()
    await _made(engine, run_id)
    took = time.perf_counter() - started
    print(f"hours export of {RESIDENTS} residents as xlsx by the job: {took:.2f} s")
    async with async_sessionmaker(engine)() as s:
        run = await s.get(ExportRun, run_id)
        assert run is not None and run.status == "done"
        assert run.done_rows == run.total_rows == RESIDENTS
    done = await client.get(f"{run_page}?part=1")
    assert "hx-trigger" not in done.text and f"{run_page}/file" in done.text
    answer = await client.get(f"{run_page}/file")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == exports.FORMATS["xlsx"]
    disposition = answer.headers["content-disposition"]
    assert disposition == f'attachment; filename="c{cid}-hours-{first.isoformat()}_{first.isoformat()}.xlsx"'
    rows = _sheet(answer.content)
    assert rows[0] == (
        "编号",
        "姓名",
        "期间时长（小时）",
        "次数",
        "累计时长（小时）",
        "期间分钟数",
        "累计分钟数",
    )
    assert {(r[0], r[1], r[2], r[5]) for r in rows[1:]} == expected
    assert all(r[3] == 1 and r[4] == r[2] and r[6] == r[5] for r in rows[1:])

    # The file is for the admin who asked: another admin of the community finds nothing.
    other = await factory.person(tenant, name="另一管理员", roles=["resident", "admin"])
    await session_of(client, other)
    assert (await client.get(run_page)).status_code == 404
    assert (await client.get(f"{run_page}/file")).status_code == 404
    # An expired file is gone: not served, then deleted by the job.
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(update(ExportRun).where(ExportRun.id == run_id).values(expires_at=clock.now()))
    await session_of(client, admin)
    assert (await client.get(f"{run_page}/file")).status_code == 404
    await jobs.run_now(engine, "app.reports.jobs.make_exports")
    async with async_sessionmaker(engine)() as s:
        assert await s.get(ExportRun, run_id) is None

    # The CSV has the same rows; a day outside the stays has none (and is made at once).
    asked = await client.get(f"/admin/c/{cid}/exports/hours.csv?{query}", follow_redirects=False)
    await _made(engine, int(asked.headers["location"].rsplit("/", 1)[1]))
    body = (await client.get(asked.headers["location"] + "/file")).content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(body)))
    assert len(lines) == RESIDENTS + 1
    assert {(int(r[0]), r[1], float(r[2]), int(r[5])) for r in lines[1:]} == expected
    later = first + timedelta(days=1)
    empty = _sheet((await client.get(f"/admin/c/{cid}/exports/hours.xlsx?from={later}&to={later}")).content)
    assert len(empty) == 1


async def test_statements_equal_the_ledger_and_others_may_not_export(
    client: Any, reports_town: Town, engine: Any
) -> None:
    town = reports_town
    cid = town.community_id
    resident = town.resident
    await _award(client, town.admin, cid, resident.user_id, 7)
    await session_of(client, town.admin)
    answer = await client.get(f"/admin/c/{cid}/exports/statements.xlsx?{town.query}")
    assert answer.status_code == 200, answer.text[:500]
    rows = {r[0]: r for r in _sheet(answer.content)[1:]}
    wallet = await client.get(f"/api/v1/me/wallet?community_id={cid}", headers=resident.headers)
    balance = wallet.json()["balance"] if wallet.status_code == 200 else None
    mine = rows[resident.user_id]
    assert mine[5] == mine[2] + mine[3] - mine[4]
    if balance is not None:
        assert mine[5] == balance
    assert mine[3] >= 7
    # The lists are as they stand: a need added now is in the needs list, whatever the period.
    async with async_sessionmaker(engine)() as s, s.begin():
        need_id = (
            await s.execute(
                text(
                    "INSERT INTO needs (community_id, title, category) "
                    "VALUES (:c, '=助老', 'care') RETURNING id"
                ),
                {"c": cid},
            )
        ).scalar_one()
        held = [
            (r.id, exports.safe(r.title), r.category)
            for r in await s.execute(
                text("SELECT id, title, category FROM needs WHERE community_id = :c ORDER BY id"), {"c": cid}
            )
        ]
    listed = _sheet((await client.get(f"/admin/c/{cid}/exports/needs.xlsx?{town.query}")).content)
    assert listed[0][:3] == ("编号", "名称", "类别")
    assert [(r[0], r[1], r[2]) for r in listed[1:]] == held
    assert (need_id, "'=助老", "care") in held
    # Every registered export answers both formats with its header row.
    for item in exports.registered():
        for fmt in ("xlsx", "csv"):
            got = await client.get(f"/admin/c/{cid}/exports/{item.name}.{fmt}?{town.query}")
            assert got.status_code == 200, (item.name, fmt, got.text[:300])
            assert item.name in got.headers["content-disposition"]
    page = await client.get(f"/admin/c/{cid}/exports?{town.query}")
    assert page.status_code == 200 and "statements.xlsx" in page.text
    assert "/exports" in (await client.get(f"/admin/c/{cid}/dashboard?{town.query}")).text
    # A resident may not; an unknown export or format is 404.
    await session_of(client, resident)
    assert (await client.get(f"/admin/c/{cid}/exports/statements.xlsx?{town.query}")).status_code in (
        403,
        404,
    )
    await session_of(client, town.admin)
    assert (await client.get(f"/admin/c/{cid}/exports/nothing.xlsx")).status_code == 404
    assert (await client.get(f"/admin/c/{cid}/exports/hours.pdf")).status_code == 404


def test_a_cell_a_spreadsheet_would_run_is_written_as_text() -> None:
    body = exports.to_csv(["a"], [["=1+1"], ["-2"], ["正常"]]).decode("utf-8-sig")
    assert body.splitlines() == ["a", "'=1+1", "'-2", "正常"]
    sheet = _sheet(exports.to_xlsx(["a"], [["=1+1"], [3]]))
    assert sheet == [("a",), ("'=1+1",), (3,)]


async def test_the_wishes_export_names_whom_a_wish_is_for_only_to_the_community_admin(
    client: Any, reports_town: Town
) -> None:
    """The wishes' pages name a wish's beneficiary only to the community's staff and admins
    (API.md): the street admin's file of the wishes has no such column, the admin's has."""
    town = reports_town
    cid = town.community_id
    beneficiary = "林秀英"  # carol posted both of the town's wishes for herself
    await session_of(client, town.admin)
    admins = _sheet((await client.get(f"/admin/c/{cid}/exports/wishes.xlsx?{town.query}")).content)
    assert len(admins[0]) == 9
    assert any(beneficiary in row for row in admins[1:])
    await session_of(client, town.street_admin)
    for fmt in ("xlsx", "csv"):
        got = await client.get(f"/admin/c/{cid}/exports/wishes.{fmt}?{town.query}")
        assert got.status_code == 200, got.text[:300]
        text_of = got.content.decode("utf-8-sig") if fmt == "csv" else repr(_sheet(got.content))
        assert beneficiary not in text_of
        assert "修插座" in text_of  # the wishes themselves are there
    street = _sheet((await client.get(f"/admin/c/{cid}/exports/wishes.xlsx?{town.query}")).content)
    assert len(street[0]) == 8  # the admin's columns but whom each wish is for
