"""An import whose job died half way (its run left running, no heartbeat for minutes) is run
again by the next job: the chunks it had finished are kept and skipped, so each person is added
and audited once; after a few attempts it is given up."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import clock, jobs
from app.core.authz import Actor
from app.core.uow import connection_of
from app.imports import jobs as import_jobs
from app.imports import services
from app.imports.models import ImportRun
from tests.api.helpers import post_form
from tests.conftest import count
from tests.imports.conftest import Place, checked, csv_file, phones, wait_done
from tests.served_jobs import served_tick

HEADER = ["手机号", "姓名", "小区", "楼栋", "角色", "无手机"]


async def _taken(client: Any, engine: Any, place: Place, rows: list[list[Any]], **left: Any) -> int:
    """A file checked, confirmed and its run taken by a job (`left`: as the job left it), the last
    two in one transaction: a served app's import job on this database (tests/served_jobs.py)
    takes a queued run as soon as the confirmation wakes it, so a run left queued for a moment
    could be imported by it before the test made it what the test needs."""
    run_id, _page = await checked(client, place.cid, csv_file(HEADER, rows))
    admin = Actor(place.tenant.admin.user_id, "管理员", {place.cid: frozenset({"admin"})})
    async with async_sessionmaker(engine)() as s, s.begin():
        await services.confirm(s, admin, place.cid, run_id)
        await s.execute(
            update(ImportRun).where(ImportRun.id == run_id).values(status="running", attempts=1, **left)
        )
    return run_id


async def _died(engine: Any, run_id: int, attempts: int = 1) -> None:
    """The run as a job that died leaves it: running, last heard of ten minutes ago."""
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            update(ImportRun)
            .where(ImportRun.id == run_id)
            .values(status="running", attempts=attempts, heartbeat_at=clock.now() - timedelta(minutes=10))
        )


async def test_an_import_left_half_done_is_finished_once(
    client: Any, engine: Any, place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "CHUNK", 2)
    numbers = phones(5)
    rows = [[n, f"居民{i}", place.compound, "1号楼", "", ""] for i, n in enumerate(numbers)]
    run_id = await _taken(client, engine, place, rows, heartbeat_at=clock.now())
    # A served app's job at this moment leaves a run whose job is alive to it.
    await served_tick(engine, import_jobs.make_imports)
    async with async_sessionmaker(engine)() as s:
        run = await s.get(ImportRun, run_id)
        assert run is not None and (run.status, run.done_rows, run.attempts) == ("running", 0, 1)
    # The job took the run and finished its first chunk (rows 2 and 3), then died.
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        run = await s.get(ImportRun, run_id)
        assert run is not None
        await services._import_chunk(await connection_of(s), run, 2, 3)
    await _died(engine, run_id)
    await wait_done(engine, run_id)
    async with async_sessionmaker(engine)() as s:
        run = await s.get(ImportRun, run_id)
        assert run is not None and (run.created, run.done_rows, run.attempts) == (5, 5, 2)
        assert await count(s, "SELECT count(*) FROM users WHERE phone = ANY(:p)", p=numbers) == 5
        assert (
            await count(
                s,
                "SELECT count(*) FROM audit_entries "
                "WHERE action = 'resident.imported' AND data->>'import' = :i",
                i=str(run_id),
            )
            == 5
        )


async def test_an_import_that_keeps_dying_is_given_up(client: Any, engine: Any, place: Place) -> None:
    run_id = await _taken(client, engine, place, [[phones(1)[0], "居民", "", "", "", ""]])
    await _died(engine, run_id, attempts=services.ATTEMPTS)
    await jobs.run_now(engine, "app.imports.jobs.make_imports")
    async with async_sessionmaker(engine)() as s:
        status = (
            await s.execute(text("SELECT status FROM import_runs WHERE id = :i"), {"i": run_id})
        ).scalar()
    assert status == "failed"
    page = await client.get(f"/admin/c/{place.cid}/imports/{run_id}")
    assert "导入中断" in page.text


async def test_two_imports_of_the_same_people_at_once_make_each_person_once(
    client: Any, engine: Any, place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same file confirmed twice and imported by two jobs at the same moment: each person
    (with a phone or without) is made once, and the two runs' counts add up to the file."""
    monkeypatch.setattr(services, "CHUNK", 3)
    numbers = phones(6)
    rows: list[list[Any]] = [[n, f"同时{i}", place.compound, "1号楼", "", ""] for i, n in enumerate(numbers)]
    rows += [["", f"同时老人{i}", place.compound, "2号楼", "", "是"] for i in range(6)]
    first = await _taken(client, engine, place, rows)
    second = await _taken(client, engine, place, rows)
    await asyncio.gather(services.make(engine, first), services.make(engine, second))
    async with async_sessionmaker(engine)() as s:
        runs = [await s.get(ImportRun, run_id) for run_id in (first, second)]
        assert all(r is not None and r.status == "done" for r in runs)
        assert sum(r.created for r in runs if r) == 12
        assert sum(r.unchanged for r in runs if r) == 12
        assert (
            await count(
                s,
                "SELECT count(*) FROM users u JOIN memberships m ON m.user_id = u.id "
                "WHERE m.community_id = :c AND u.display_name LIKE '同时%'",
                c=place.cid,
            )
            == 12
        )


async def test_a_checked_file_nobody_confirmed_is_let_go_after_a_day(
    client: Any, engine: Any, place: Place
) -> None:
    run_id, _page = await checked(
        client, place.cid, csv_file(HEADER, [[phones(1)[0], "居民", "", "", "", ""]])
    )
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            update(ImportRun)
            .where(ImportRun.id == run_id)
            .values(created_at=clock.now() - services.KEEP_CHECKED - timedelta(minutes=1))
        )
    await jobs.run_now(engine, "app.imports.jobs.make_imports")
    async with async_sessionmaker(engine)() as s:
        assert await count(s, "SELECT count(*) FROM import_rows WHERE run_id = :r", r=run_id) == 0
        run = await s.get(ImportRun, run_id)
        assert run is not None and run.status == "expired"
    page = await client.get(f"/admin/c/{place.cid}/imports/{run_id}")
    assert "明细已清除" in page.text and "data-dry-run" not in page.text
    late = await post_form(client, f"/admin/c/{place.cid}/imports/{run_id}/start", {"confirm": "1"})
    assert late.status_code == 409
