"""A long export seen from the admin's browser: the link on the exports page queues a run and
opens its page, whose progress bar htmx renews (no reload) through values below 100 % until the
download link, and the file downloaded is the real workbook.

The job is run by the test, a batch at a time (app.reports.exporting.Making), and each batch waits
for the page to show it, so what is seen does not hang on timing: the server runs no jobs
(JINLIN_JOBS_IN_PROCESS=0) on a database of its own, where no other served app's job can take the
run first. Screenshots go to test-artifacts/export-progress/."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from app.core import clock
from app.core.i18n import ELDER_COOKIE, LANG_COOKIE
from app.core.migrate import upgrade
from app.domains import load_exports
from app.reports import exporting
from tests.conftest import (
    ARTIFACTS,
    Factory,
    LiveServer,
    _admin_sql,
    _with_database,
    screenshot,
    start_server,
)

pytestmark = pytest.mark.browser

RESIDENTS = 2_100  # more than exporting.INLINE_ROWS: made by the job
BATCH = 500  # five batches: 23 %, 47 %, 71 %, 95 %, then the file
T = TypeVar("T")


class Loop:
    """An event loop in a thread of its own for the test's database work (sync Playwright keeps
    the main thread's)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(120)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@dataclass
class Place:
    server: LiveServer
    engine: AsyncEngine
    loop: Loop
    community_id: int
    phone: str
    password: str
    day: date
    expected: set[tuple[int, str, float]]


async def _seed(engine: AsyncEngine) -> tuple[int, str, str, date, set[tuple[int, str, float]]]:
    tenant = await Factory(engine).tenant()
    cid = tenant.community_id
    async with async_sessionmaker(engine)() as s, s.begin():
        zone = (
            await s.execute(text("SELECT time_zone FROM communities WHERE id = :c"), {"c": cid})
        ).scalar_one()
        day = clock.today(zone)
        at = datetime(day.year, day.month, day.day, 9, tzinfo=clock.zone(zone))
        event_id = (
            await s.execute(
                text(
                    "INSERT INTO events (community_id, title, category, starts_at, ends_at, status) "
                    "VALUES (:c, '清扫', 'cleanup', :s, :e, 'closed') RETURNING id"
                ),
                {"c": cid, "s": at, "e": at + timedelta(hours=3)},
            )
        ).scalar_one()
        # The residents (no phone), each a member with one credited stay: one INSERT ... SELECT
        # generate_series, the member and the stay in its CTEs.
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
            # Hours to a tenth, rounded down (app.core.figures.hours): 33 minutes read 0.5.
            (int(r[0]), str(r[1]), int(r[2]) // 6 / 10)
            for r in await s.execute(
                text(
                    "SELECT u.id, u.display_name, c.minutes FROM event_checkins c JOIN users u "
                    "ON u.id = c.user_id WHERE c.community_id = :c"
                ),
                {"c": cid},
            )
        }
    assert tenant.admin.phone is not None
    return cid, tenant.admin.phone, tenant.admin.password, day, expected


@pytest.fixture(scope="module")
def place(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Place]:
    load_exports()  # the job of this process finds the domains' exports
    name = f"{database_url.rsplit('/', 1)[1].split('?')[0]}_export_progress"
    _admin_sql(database_url, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    url = _with_database(database_url, name)
    upgrade(url)
    loop = Loop()
    engine = loop.run(_engine(url))
    try:
        cid, phone, password, day, expected = loop.run(_seed(engine))
        server = start_server(
            url, tmp_path_factory.mktemp("export-progress"), workers=1, env={"JINLIN_JOBS_IN_PROCESS": "0"}
        )
        try:
            yield Place(server, engine, loop, cid, phone, password, day, expected)
        finally:
            server.stop()
    finally:
        loop.run(engine.dispose())
        loop.close()
        _admin_sql(database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _engine(url: str) -> AsyncEngine:
    return create_async_engine(url, pool_size=2)


class Job:
    """The export job, run by the test: claim, open, then a batch at a time."""

    def __init__(self, place: Place) -> None:
        self.place = place
        self.making: exporting.Making | None = None
        self.session: Any = None

    async def _open(self) -> int:
        run_id = await exporting.claim(self.place.engine)
        assert run_id is not None, "no queued run"
        self.session = async_sessionmaker(self.place.engine)()
        self.making = await exporting.Making.open(self.session, self.place.engine, run_id, batch=BATCH)
        assert self.making is not None
        return run_id

    async def _step(self) -> bool:
        assert self.making is not None
        return await self.making.step()

    async def _finish(self) -> None:
        assert self.making is not None
        await self.making.finish()
        await self.session.close()

    def open(self) -> int:
        return self.place.loop.run(self._open())

    def step(self) -> bool:
        return self.place.loop.run(self._step())

    def finish(self) -> None:
        self.place.loop.run(self._finish())


def _bar(page: Any) -> str | None:
    return page.evaluate(
        "() => { const b = document.getElementById('export-bar'); return b && b.value + '' }"
    )


def test_the_progress_bar_advances_to_the_download(place: Place, browser: Any) -> None:
    shots = ARTIFACTS / "export-progress"
    shots.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    try:
        _run_export(place, page, shots)
    finally:
        context.close()


def _run_export(place: Place, page: Any, shots: Path) -> None:
    url = place.server.url
    page.goto(url + "/login")
    page.fill("#phone", place.phone)
    page.fill("#password", place.password)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url
    day = place.day.isoformat()
    page.goto(f"{url}/admin/c/{place.community_id}/exports?from={day}&to={day}")
    # The Excel link of the hours per person: too long to make at once, so its run's page opens.
    page.click(f"a[href$='/hours.xlsx?from={day}&to={day}']")
    page.wait_for_url(f"**/admin/c/{place.community_id}/exports/runs/*")
    run_path = page.url.split(url, 1)[1]
    page.wait_for_selector("#export-progress")
    assert _bar(page) == "0"
    page.evaluate("() => { window.stillThisPage = true; }")  # htmx renews the bar: no reload
    screenshot(page, shots / "waiting-390-zh.png")

    job = Job(place)
    run_id = job.open()
    assert run_path.endswith(f"/runs/{run_id}")
    seen: list[int] = []
    while job.step():
        done = job.making.done if job.making else 0
        want = 100 * done // RESIDENTS
        page.wait_for_function(
            "want => { const b = document.getElementById('export-bar'); return b && b.value === want; }",
            arg=want,
            timeout=20_000,
        )
        seen.append(int(_bar(page) or -1))
        if len(seen) == 2:
            screenshot(page, shots / "running-390-zh.png")
    assert len(set(seen)) >= 2 and all(0 < v < 100 for v in seen), seen
    assert seen == sorted(seen)
    job.finish()
    link = page.wait_for_selector(f"a[href='{run_path}/file']", timeout=20_000)
    assert page.evaluate("() => window.stillThisPage === true")
    screenshot(page, shots / "done-390-zh.png")
    with page.expect_download() as download:
        link.click()
    saved = download.value
    assert saved.suggested_filename == f"c{place.community_id}-hours-{day}_{day}.xlsx"
    book = load_workbook(io.BytesIO(Path(saved.path()).read_bytes()), read_only=True)
    rows = [tuple(r) for r in book.active.iter_rows(values_only=True)]
    assert rows[0] == (
        "编号",
        "姓名",
        "期间时长（小时）",
        "次数",
        "累计时长（小时）",
        "期间分钟数",
        "累计分钟数",
    )
    assert {(r[0], r[1], r[2]) for r in rows[1:]} == place.expected
    assert len(rows) == RESIDENTS + 1

    # The done page in English, wide, and in 长辈版.
    host = url.split("//", 1)[1].split(":")[0]
    page.context.add_cookies([{"name": LANG_COOKIE, "value": "en", "domain": host, "path": "/"}])
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(url + run_path)
    assert "rows" in page.inner_text("#export-progress")
    screenshot(page, shots / "done-1280-en.png")
    page.context.add_cookies(
        [
            {"name": LANG_COOKIE, "value": "zh", "domain": host, "path": "/"},
            {"name": ELDER_COOKIE, "value": "1", "domain": host, "path": "/"},
        ]
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(url + run_path)
    screenshot(page, shots / "done-390-zh-elder.png")
