"""A confirmed file is imported by a served app's job worker as soon as the confirmation commits:
the import job is woken then (app.core.jobs.wake), not left to its schedule a minute apart."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.api.helpers import csrf_token
from tests.conftest import LiveServer
from tests.imports.conftest import Place, checked, csv_file, phones
from tests.served_jobs import settled

HEADER = ["手机号", "姓名", "小区", "楼栋", "角色", "无手机"]


async def test_a_confirmed_file_is_imported_at_once_by_the_served_job_worker(
    client: Any, engine: Any, place: Place, live_server: LiveServer
) -> None:
    rows = [[n, f"居民{i}", place.compound, "1号楼", "", ""] for i, n in enumerate(phones(2))]
    run_id, _page = await checked(client, place.cid, csv_file(HEADER, rows))
    token = await csrf_token(client, f"/admin/c/{place.cid}/imports")
    # The schedule starts the job at each minute's start: confirmed after one and done before the
    # next, the file was imported because the confirmation woke the job.
    second = datetime.now(UTC).second
    if second < 2 or second >= 45:
        await asyncio.sleep((62 - second) % 60)
    next_tick = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    answer = await client.post(
        f"/admin/c/{place.cid}/imports/{run_id}/start",
        data={"_csrf_token": token, "confirm": "1"},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[:2000]
    within = (next_tick - datetime.now(UTC)).total_seconds() - 1
    await settled(engine, "SELECT status FROM import_runs WHERE id = :id", "done", within=within, id=run_id)
