"""Exports too long to make while the admin waits (more than `INLINE_ROWS` rows: about a second
of writing on a busy machine) are made by a job: the request records an `ExportRun` and answers
its page, where a progress bar follows the job (htmx polling, a plain refresh without
JavaScript) and offers the file when it is done. The file is only for the admin who asked and is
deleted when it expires (`KEEP`).

The job claims a run, counts and writes its rows, and records its progress in short transactions
of their own, beside the job's own (which reads the rows), so the page sees it advance."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core import clock, exports, progress
from app.core.authz import Actor
from app.core.errors import NotFound
from app.core.figures import Scope
from app.core.i18n import translations
from app.places.models import Community
from app.reports.models import ExportRun

INLINE_ROWS = 2_000
CHUNK = 500
KEEP = timedelta(hours=24)

_CLAIM = text(
    "UPDATE export_runs SET status = 'running' WHERE id = ("
    " SELECT id FROM export_runs WHERE status = 'queued' ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1"
    ") RETURNING id"
)


async def start(
    session: AsyncSession, actor: Actor, export: exports.Export, fmt: str, scope: Scope, lang: str
) -> ExportRun:
    """The admin's run of this export, format and period: one still running or made and not yet
    expired is reused (opening the link twice makes one file), else a new one is queued."""
    now = clock.now()
    found = await session.scalar(
        select(ExportRun)
        .where(
            ExportRun.user_id == actor.user_id,
            ExportRun.community_id == scope.community_id,
            ExportRun.name == export.name,
            ExportRun.fmt == fmt,
            ExportRun.first_day == scope.first,
            ExportRun.last_day == scope.last,
            ExportRun.lang == lang,
            ExportRun.status != "failed",
            ExportRun.expires_at > now,
        )
        .order_by(ExportRun.id.desc())
        .limit(1)
    )
    if found is not None:
        return found
    run = ExportRun(
        community_id=scope.community_id,
        user_id=actor.user_id,
        name=export.name,
        fmt=fmt,
        first_day=scope.first,
        last_day=scope.last,
        lang=lang,
        status="queued",
        filename=exports.filename(scope, export.name, fmt),
        expires_at=now + KEEP,
    )
    session.add(run)
    await session.flush()
    return run


async def run_of(session: AsyncSession, actor: Actor, community_id: int, run_id: int) -> ExportRun:
    """A run, for the admin who asked only; another's, or an expired one, is not found."""
    run = await session.get(ExportRun, run_id)
    if (
        run is None
        or run.user_id != actor.user_id
        or run.community_id != community_id
        or run.expires_at <= clock.now()
    ):
        raise NotFound()
    return run


async def _set(engine: AsyncEngine, run_id: int, **values: Any) -> None:
    """Progress in a short transaction of its own, so the run's page sees it at once."""
    await progress.beside(engine, update(ExportRun).where(ExportRun.id == run_id).values(**values))


async def make(session: AsyncSession, engine: AsyncEngine, run_id: int) -> None:
    """Makes one claimed run: its rows read in the job's session, its progress and file recorded
    beside it."""
    run = await session.get(ExportRun, run_id)
    export = exports.find(run.name) if run is not None else None
    community = await session.get(Community, run.community_id) if run is not None else None
    if run is None or export is None or community is None:
        await _set(engine, run_id, status="failed", finished_at=clock.now())
        return
    scope = Scope(community.id, run.first_day, run.last_day, community.time_zone)
    rows = await export.fn(session, scope)
    await _set(engine, run_id, total_rows=len(rows))
    gettext = translations(run.lang).gettext
    writer = exports.Writer(run.fmt, export.header(gettext), gettext(export.label))
    for done, row in enumerate(rows, start=1):
        writer.add(export.cells(row, gettext))
        if done % CHUNK == 0:
            await _set(engine, run_id, done_rows=done)
    await _set(
        engine, run_id, body=writer.finish(), done_rows=len(rows), status="done", finished_at=clock.now()
    )


async def make_queued(session: AsyncSession) -> None:
    """Makes the queued exports, one after the other, and deletes the expired files."""
    engine = session.bind
    assert isinstance(engine, AsyncEngine)
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(delete(ExportRun).where(ExportRun.expires_at <= clock.now()))
    while True:
        async with async_sessionmaker(engine)() as s, s.begin():
            run_id = (await s.execute(_CLAIM)).scalar()
        if run_id is None:
            return
        try:
            await make(session, engine, int(run_id))
        except Exception:
            await _set(engine, int(run_id), status="failed", finished_at=clock.now())
            raise
