"""Exports too long to make while the admin waits (more than `INLINE_ROWS` rows: about a second
of writing on a busy machine) are made by a job: the request records an `ExportRun` and answers
its page, where a progress bar follows the job (htmx polling, a plain refresh without
JavaScript) and offers the file when it is done. The file is only for the admin who asked and is
deleted when it expires (`KEEP`).

The job claims a run, counts and writes its rows a batch at a time, and records its progress (a
heartbeat too) in short transactions of their own, beside the job's own (which reads the rows), so
the page sees it advance. A run left running by a job that died is made again by a later tick,
and failed after a few attempts with the reason its page shows (`FAILURES`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core import clock, exports, jobs, progress
from app.core.authz import Actor
from app.core.errors import Forbidden, NotFound
from app.core.figures import Scope
from app.core.i18n import DEFAULT_LANG, LANGS, lazy, translations
from app.core.settings import get_settings
from app.places.models import Community
from app.reports.models import ExportRun

INLINE_ROWS = 2_000
# The job that makes the queued runs (app.reports.jobs), woken when a run is queued.
JOB = "app.reports.jobs.make_exports"
BATCH = 500  # rows written between two records of progress (and heartbeats)
KEEP = timedelta(hours=24)
RECENT = 20  # the admin's runs the exports page lists
# A run whose job has not been heard of for STALE (the job records a heartbeat with every batch, a
# second or so apart) was left by a job that died: it is made again, ATTEMPTS times at most.
STALE = timedelta(minutes=5)
ATTEMPTS = 3
# Where a run stands, as the exports page lists it.
STATES = {
    "queued": lazy("Waiting to start"),
    "running": lazy("Being written"),
    "done": lazy("Ready to download"),
    "failed": lazy("Could not be made"),
}
# Why a run failed, as its admin reads it on its page.
FAILURES = {
    "stopped": lazy("The work stopped before the file was made, %(attempts)s times. Please try again later."),
    "error": lazy(
        "The file could not be made (%(attempts)s attempts). Please try again, or ask the system's keeper."
    ),
    "gone": lazy("This export is no longer offered."),
}

_CLAIM = text(
    "UPDATE export_runs SET status = 'running', attempts = attempts + 1, heartbeat_at = :now,"
    " done_rows = 0 WHERE id = ("
    " SELECT id FROM export_runs WHERE status = 'queued' ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1"
    ") RETURNING id"
)
# A running run without a heartbeat since :before: queued again, or failed after :most attempts.
_REVIVE = text(
    "UPDATE export_runs SET"
    " status = CASE WHEN attempts >= :most THEN 'failed' ELSE 'queued' END,"
    " failure = CASE WHEN attempts >= :most THEN 'stopped' ELSE '' END,"
    " finished_at = CASE WHEN attempts >= :most THEN CAST(:now AS timestamptz) END,"
    " done_rows = 0 "
    "WHERE status = 'running' AND COALESCE(heartbeat_at, created_at) < :before"
)
# A run whose making raised: queued again for the next tick, or failed after :most attempts.
_RETRY = text(
    "UPDATE export_runs SET"
    " status = CASE WHEN attempts >= :most THEN 'failed' ELSE 'queued' END,"
    " failure = CASE WHEN attempts >= :most THEN 'error' ELSE '' END,"
    " finished_at = CASE WHEN attempts >= :most THEN CAST(:now AS timestamptz) END,"
    " done_rows = 0 "
    "WHERE id = :id AND status = 'running' RETURNING status"
)


async def start(
    session: AsyncSession, actor: Actor, export: exports.Export, fmt: str, scope: Scope, lang: str
) -> ExportRun:
    """The admin's run of this export, format and period: one still running or made and not yet
    expired is reused (opening the link twice makes one file), else a new one is queued. Whether
    its file has the contact columns is decided here, from the asker's roles."""
    now = clock.now()
    contacts = export.shows_contacts(actor, scope.community_id)
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
            ExportRun.contacts == contacts,
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
        contacts=contacts,
        status="queued",
        filename=exports.filename(scope, export, fmt),
        expires_at=now + KEEP,
    )
    session.add(run)
    await session.flush()
    await jobs.wake(session, JOB)
    return run


def _may_open(actor: Actor, community_id: int, run: ExportRun) -> bool:
    """Whether the run's asker may still take its file: the export is still theirs to take, and
    the contact columns in it theirs to read (no longer the community's admin: refused)."""
    export = exports.find(run.name)
    if export is None:
        return True  # its page says the export is no longer offered
    return export.allows(actor, community_id) and (
        not run.contacts or export.shows_contacts(actor, community_id)
    )


async def run_of(session: AsyncSession, actor: Actor, community_id: int, run_id: int) -> ExportRun:
    """A run, for the admin who asked only; another's, or an expired one, is not found. A run
    whose file has contact columns is refused (403) to its asker once they may no longer read
    them (no longer the community's admin); so is one whose export they may no longer take."""
    run = await session.get(ExportRun, run_id)
    if (
        run is None
        or run.user_id != actor.user_id
        or run.community_id != community_id
        or run.expires_at <= clock.now()
    ):
        raise NotFound()
    if not _may_open(actor, community_id, run):
        raise Forbidden()
    return run


async def runs_of(session: AsyncSession, actor: Actor, community_id: int) -> Sequence[ExportRun]:
    """The admin's runs in the community whose files are still kept, newest first, as the exports
    page lists them: a long export's page is found again after leaving it, while its file lasts."""
    found = await session.scalars(
        select(ExportRun)
        .where(
            ExportRun.user_id == actor.user_id,
            ExportRun.community_id == community_id,
            ExportRun.expires_at > clock.now(),
        )
        .order_by(ExportRun.id.desc())
        .limit(RECENT)
    )
    return [run for run in found.all() if _may_open(actor, community_id, run)]


async def _set(engine: AsyncEngine, run_id: int, **values: Any) -> None:
    """Progress in a short transaction of its own, so the run's page sees it at once; every
    update is a heartbeat too."""
    await progress.beside(
        engine,
        update(ExportRun).where(ExportRun.id == run_id).values(heartbeat_at=clock.now(), **values),
    )


async def claim(engine: AsyncEngine) -> int | None:
    """Takes the oldest queued run for this job (another job takes another), counting the attempt."""
    async with async_sessionmaker(engine)() as s, s.begin():
        found = (await s.execute(_CLAIM, {"now": clock.now()})).scalar()
    return None if found is None else int(found)


async def revive(engine: AsyncEngine) -> None:
    """Runs left running by a job that died (no heartbeat for `STALE`) are queued again, or, after
    `ATTEMPTS` attempts, failed with the reason their admin reads."""
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(_REVIVE, {"before": clock.now() - STALE, "most": ATTEMPTS, "now": clock.now()})


async def retry_or_fail(engine: AsyncEngine, run_id: int) -> str | None:
    """A run whose making raised: queued again for the next tick, or failed (`error`) after
    `ATTEMPTS` attempts. Answers its status now."""
    async with async_sessionmaker(engine)() as s, s.begin():
        found = (await s.execute(_RETRY, {"id": run_id, "most": ATTEMPTS, "now": clock.now()})).scalar()
    return None if found is None else str(found)


async def _failed(engine: AsyncEngine, run_id: int, failure: str) -> None:
    await _set(engine, run_id, status="failed", failure=failure, finished_at=clock.now())


@dataclass
class Making:
    """One claimed run being made, a batch of rows at a time: `open` reads its rows (in the job's
    session) and records how many; each `step` writes the next `batch` and records its progress
    and a heartbeat; `finish` stores the file. The job runs them one after the other (`make`)."""

    engine: AsyncEngine
    run_id: int
    export: exports.Export
    rows: Sequence[Sequence[Any]]
    writer: exports.Writer
    gettext: exports.Gettext
    contacts: bool  # the run's: whether its file has the export's contact columns
    batch: int = BATCH
    done: int = 0

    @classmethod
    async def open(
        cls, session: AsyncSession, engine: AsyncEngine, run_id: int, batch: int = BATCH
    ) -> Making | None:
        """None when the run cannot be made (its export or community is gone): it is failed."""
        run = await session.get(ExportRun, run_id)
        export = exports.find(run.name) if run is not None else None
        community = await session.get(Community, run.community_id) if run is not None else None
        if run is None or export is None or community is None:
            await _failed(engine, run_id, "gone")
            return None
        scope = Scope(community.id, run.first_day, run.last_day, community.time_zone)
        rows = await export.fn(session, scope)
        await _set(engine, run_id, total_rows=len(rows), done_rows=0)
        gettext = translations(run.lang if run.lang in LANGS else DEFAULT_LANG).gettext
        # Amounts named in the currency the payments are taken in, as the pages name them.
        header = export.header(gettext, run.contacts, currency=get_settings().stripe_currency)
        writer = exports.Writer(run.fmt, header, export.sheet_title(gettext))
        return cls(engine, run_id, export, rows, writer, gettext, run.contacts, max(1, batch))

    async def step(self) -> bool:
        """Writes the next batch; True while rows remain."""
        upto = min(self.done + self.batch, len(self.rows))
        for row in self.rows[self.done : upto]:
            self.writer.add(self.export.cells(row, self.gettext, self.contacts))
        self.done = upto
        if self.done < len(self.rows):
            await _set(self.engine, self.run_id, done_rows=self.done)
            return True
        return False

    async def finish(self) -> None:
        await _set(
            self.engine,
            self.run_id,
            body=self.writer.finish(),
            done_rows=len(self.rows),
            status="done",
            failure="",
            finished_at=clock.now(),
        )


async def make(session: AsyncSession, engine: AsyncEngine, run_id: int, batch: int = BATCH) -> None:
    """Makes one claimed run: its rows read in the job's session, its progress and file recorded
    beside it."""
    making = await Making.open(session, engine, run_id, batch)
    if making is None:
        return
    while await making.step():
        pass
    await making.finish()


async def make_queued(session: AsyncSession) -> None:
    """Deletes the expired files, queues again the runs whose job died, and makes the queued
    exports, one after the other. A run that raises is queued again for the next tick, and failed
    after `ATTEMPTS` attempts."""
    engine = session.bind
    assert isinstance(engine, AsyncEngine)
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(delete(ExportRun).where(ExportRun.expires_at <= clock.now()))
    await revive(engine)
    while True:
        run_id = await claim(engine)
        if run_id is None:
            return
        try:
            await make(session, engine, run_id)
        except Exception:
            await retry_or_fail(engine, run_id)
            raise
