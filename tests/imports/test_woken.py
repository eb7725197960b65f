"""A confirmed file is imported by a served app's job worker as soon as the confirmation commits:
the import job is woken then (app.core.jobs.wake), not left to its schedule a minute apart."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from tests.api.helpers import csrf_token
from tests.conftest import LiveServer
from tests.imports.conftest import Place, checked, csv_file, phones

HEADER = ["手机号", "姓名", "小区", "楼栋", "角色", "无手机"]
# Seconds before the schedule's next tick within which a woken import surely ends.
ENOUGH = 15


async def _done_within(engine: Any, run_id: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    async with engine.connect() as conn:
        while True:
            status = await conn.scalar(text("SELECT status FROM import_runs WHERE id = :id"), {"id": run_id})
            if status == "done":
                return True
            if time.monotonic() >= deadline:
                return False
            await conn.rollback()
            await asyncio.sleep(0.05)


async def test_a_confirmed_file_is_imported_at_once_by_the_served_job_worker(
    client: Any, engine: Any, place: Place, live_server: LiveServer
) -> None:
    # The schedule starts the job at each minute's start: confirmed after one and done before the
    # next, the file was imported because the confirmation woke the job. A file confirmed less
    # than ENOUGH seconds before the next and not done by then tells nothing: another is confirmed
    # after that tick (where the test waited for the minute's early seconds before every file).
    for attempt in range(2):
        rows = [[n, f"居民{i}", place.compound, "1号楼", "", ""] for i, n in enumerate(phones(2))]
        run_id, _page = await checked(client, place.cid, csv_file(HEADER, rows))
        token = await csrf_token(client, f"/admin/c/{place.cid}/imports")
        now = datetime.now(UTC)
        if now.second < 2:  # the run of the tick just past may still be starting
            await asyncio.sleep(2 - now.second - now.microsecond / 1e6)
        next_tick = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        answer = await client.post(
            f"/admin/c/{place.cid}/imports/{run_id}/start",
            data={"_csrf_token": token, "confirm": "1"},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text[:2000]
        within = (next_tick - datetime.now(UTC)).total_seconds() - 1
        if await _done_within(engine, run_id, within):
            return
        assert attempt == 0 and within < ENOUGH, (
            f"run {run_id} not imported within {within:.1f} s of its confirmation"
        )
