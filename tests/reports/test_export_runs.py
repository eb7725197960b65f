"""A long export's run outlives the job that makes it: a run left running by a job that died (no
heartbeat for `exporting.STALE`) is made again by a later tick, a run that keeps failing is given
up after `exporting.ATTEMPTS` attempts, and its admin reads why on its page."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.core import clock, exports, jobs
from app.core.figures import Scope
from app.reports import exporting
from app.reports import jobs as _report_jobs  # noqa: F401 - registers make_exports
from app.reports.models import ExportRun
from tests.api.helpers import session_of
from tests.conftest import Factory, login

JOB = "app.reports.jobs.make_exports"


async def _run(engine: Any, user_id: int, community_id: int, **values: Any) -> int:
    """A run of the admin's, as a job left it."""
    row = {
        "name": "statements",
        "status": "running",
        "attempts": 1,
        "heartbeat_at": clock.now(),
        **values,
    }
    async with async_sessionmaker(engine)() as s, s.begin():
        return int(
            (
                await s.execute(
                    text(
                        "INSERT INTO export_runs (community_id, user_id, name, fmt, first_day, last_day,"
                        " lang, status, attempts, heartbeat_at, filename, expires_at)"
                        " VALUES (:c, :u, :name, 'csv', current_date, current_date, 'en', :status,"
                        " :attempts, :heartbeat_at, 'c0-statements.csv', now() + interval '1 day')"
                        " RETURNING id"
                    ),
                    {"c": community_id, "u": user_id, **row},
                )
            ).scalar_one()
        )


async def _get(engine: Any, run_id: int) -> ExportRun:
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        run = await s.get(ExportRun, run_id)
        assert run is not None
        return run


async def test_a_run_left_running_is_made_again_and_given_up_after_its_attempts(
    client: Any, factory: Factory, engine: Any
) -> None:
    tenant = await factory.tenant()
    cid, me = tenant.community_id, tenant.admin.user_id
    admin = await login(client, tenant.admin)
    long_ago = clock.now() - exporting.STALE - timedelta(minutes=1)
    left = await _run(engine, me, cid, heartbeat_at=long_ago)
    alive = await _run(engine, me, cid)
    worn = await _run(engine, me, cid, heartbeat_at=long_ago, attempts=exporting.ATTEMPTS)
    try:
        # A served app on this database may run the same job: either way the run gets made.
        for _ in range(300):
            await jobs.run_now(engine, JOB)
            if (await _get(engine, left)).status == "done":
                break
            await asyncio.sleep(0.2)
        made = await _get(engine, left)
        assert made.status == "done" and made.attempts == 2 and made.body is not None
        assert made.body.decode("utf-8-sig").startswith("Number,Name,Balance before")
        # A run whose job is alive is left to it.
        still = await _get(engine, alive)
        assert (still.status, still.attempts) == ("running", 1)
        # A run that was left running as often as it may be is given up, and says why.
        given_up = await _get(engine, worn)
        assert (given_up.status, given_up.failure, given_up.attempts) == (
            "failed",
            "stopped",
            exporting.ATTEMPTS,
        )
        assert given_up.finished_at is not None
        await session_of(client, admin)
        page = await client.get(f"/admin/c/{cid}/exports/runs/{worn}", headers={"Accept-Language": "en"})
        assert page.status_code == 200
        assert f"The work stopped before the file was made, {exporting.ATTEMPTS} times." in page.text
        assert "hx-trigger" not in page.text  # nothing more to wait for
        zh = await client.get(
            f"/admin/c/{cid}/exports/runs/{worn}?part=1", headers={"Accept-Language": "zh-CN"}
        )
        assert f"已尝试 {exporting.ATTEMPTS} 次" in zh.text
        done = await client.get(f"/admin/c/{cid}/exports/runs/{left}/file")
        assert done.status_code == 200 and done.content == made.body
    finally:
        async with async_sessionmaker(engine)() as s, s.begin():
            await s.execute(text("DELETE FROM export_runs WHERE id = :a"), {"a": alive})


async def _boom(session: Any, scope: Scope) -> Sequence[Sequence[Any]]:
    raise RuntimeError("the export's statement failed")


async def test_a_run_that_raises_is_queued_again_then_failed_with_the_reason(
    client: Any, factory: Factory, engine: Any
) -> None:
    tenant = await factory.tenant()
    cid, me = tenant.community_id, tenant.admin.user_id
    admin = await login(client, tenant.admin)
    exports.export("boom", "Boom", columns=("A",))(_boom)
    try:
        first = await _run(engine, me, cid, name="boom", attempts=1)
        last = await _run(engine, me, cid, name="boom", attempts=exporting.ATTEMPTS)
        for run_id, expected in ((first, "queued"), (last, "failed")):
            async with async_sessionmaker(engine)() as s:
                with pytest.raises(RuntimeError):
                    await exporting.make(s, engine, run_id)
            assert await exporting.retry_or_fail(engine, run_id) == expected
        failed = await _get(engine, last)
        assert (failed.failure, failed.body) == ("error", None)
        await session_of(client, admin)
        page = await client.get(f"/admin/c/{cid}/exports/runs/{last}", headers={"Accept-Language": "en"})
        assert f"The file could not be made ({exporting.ATTEMPTS} attempts)." in page.text
    finally:
        exports._EXPORTS.pop("boom", None)
        async with async_sessionmaker(engine)() as s, s.begin():
            await s.execute(text("DELETE FROM export_runs WHERE community_id = :c"), {"c": cid})


async def test_the_exports_page_lists_the_admins_runs_while_their_files_are_kept(
    client: Any, factory: Factory, engine: Any
) -> None:
    """Its page is found again after leaving it (the link the every-page reach test follows)."""
    tenant = await factory.tenant()
    cid, me = tenant.community_id, tenant.admin.user_id
    other = await factory.person(tenant, roles=["admin"])
    admin = await login(client, tenant.admin)
    mine = await _run(engine, me, cid, status="done")
    expired = await _run(engine, me, cid, status="done")
    theirs = await _run(engine, other.user_id, cid, status="done")
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(
            text("UPDATE export_runs SET expires_at = now() - interval '1 minute' WHERE id = :e"),
            {"e": expired},
        )
    page = await client.get(f"/admin/c/{cid}/exports", headers={**admin.headers, "Accept-Language": "en"})
    assert page.status_code == 200
    assert f'href="/admin/c/{cid}/exports/runs/{mine}"' in page.text
    assert "Ready to download" in page.text
    for hidden in (expired, theirs):
        assert f'href="/admin/c/{cid}/exports/runs/{hidden}"' not in page.text
    opened = await client.get(f"/admin/c/{cid}/exports/runs/{mine}", headers=admin.headers)
    assert opened.status_code == 200
