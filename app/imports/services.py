"""Importing residents: the file's rows are staged in one COPY, checked by one statement over all
of them (the dry run: nothing else is written), and, once an admin confirms, imported by a job
chunk by chunk with INSERT ... SELECT ... ON CONFLICT, each chunk one transaction that records
its progress.

Idempotent on the phone number: a phone already known gets a membership here and nothing else
(never the name or password of an account that may belong to another community: see
app.accounts.services.belongs_here_alone); a phone already a member here is left unchanged. A
person without a phone is the same person when this community already has a member without a
phone of the same name in the same compound and building: so a second run of the same file
changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.core import audit, clock, jobs, progress
from app.core.authz import Actor
from app.core.errors import DomainError, NotFound
from app.core.i18n import lazy
from app.core.uow import Connection, Sql, connection_of
from app.core.uploads import TableFile
from app.imports import files, rules
from app.imports.models import ImportRow, ImportRun
from app.places.models import Community
from app.places.services import community_for

# Who may import: as with enrolling one person, a community's admins and staff (staff give the
# resident role only).
IMPORTERS = ("admin", "staff")
CHUNK = 1_000
# The job that imports the confirmed files (app.imports.jobs), woken when one is confirmed.
JOB = "app.imports.jobs.make_imports"
# A checked file waits this long for its confirmation; an imported one keeps its rows (the
# report, the new cards) this long.
KEEP_CHECKED = timedelta(days=1)
KEEP_ROWS = timedelta(days=30)

STAGED = (
    "row_no",
    "phone_text",
    "name",
    "compound",
    "building",
    "roles_text",
    "no_phone_text",
    "phone",
    "no_phone",
    "roles",
    "errors",
)

# The checks that need the database, over all the staged rows of a run at once: the places by
# name in this community, and a phone (or a person without one) given twice in the file.
CHECK = Sql(
    "WITH looked AS ("  # noqa: S608 - composed of constants only
    " SELECT r.row_no, c.id AS compound_id, b.id AS building_id,"
    "  count(*) OVER w AS copies, first_value(r.row_no) OVER w AS first_no,"
    "  lead(r.row_no) OVER w AS next_no"
    " FROM import_rows r"
    " LEFT JOIN compounds c ON c.community_id = :community AND c.name = r.compound"
    " LEFT JOIN buildings b ON b.compound_id = c.id AND b.name = r.building"
    " WHERE r.run_id = :run"
    " WINDOW w AS (PARTITION BY CASE WHEN r.phone IS NOT NULL THEN 'p' || r.phone"
    "  WHEN r.no_phone THEN 'n' || r.name || chr(31) || r.compound || chr(31) || r.building"
    "  ELSE 'r' || r.row_no END"
    "  ORDER BY r.row_no ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
    ") "
    "UPDATE import_rows r SET compound_id = l.compound_id, building_id = l.building_id,"
    " same_as = CASE WHEN l.copies > 1 THEN CASE WHEN r.row_no = l.first_no THEN l.next_no"
    "  ELSE l.first_no END END,"
    " errors = r.errors"
    "  || CASE WHEN r.compound <> '' AND l.compound_id IS NULL"
    "   THEN CAST(ARRAY['compound_unknown'] AS varchar[]) ELSE CAST('{}' AS varchar[]) END"
    "  || CASE WHEN r.building <> '' AND l.compound_id IS NOT NULL AND l.building_id IS NULL"
    "   THEN CAST(ARRAY['building_unknown'] AS varchar[]) ELSE CAST('{}' AS varchar[]) END"
    "  || CASE WHEN l.copies > 1 AND r.phone IS NOT NULL THEN CAST(ARRAY['phone_twice'] AS varchar[])"
    "   WHEN l.copies > 1 THEN CAST(ARRAY['person_twice'] AS varchar[]) ELSE CAST('{}' AS varchar[]) END "
    "FROM looked l WHERE r.run_id = :run AND r.row_no = l.row_no"
)

# The checks and the import are planned from import_rows' statistics. Gathered while the table held
# a few small files, they say a run has a row or two, and PostgreSQL then joins each row of a large
# file to every other (over two minutes of its CPU for 10,000 rows, where a hash join takes 0.1 s):
# the dry run gathers them again once a file is staged (ANALYZE reads at most 30,000 sampled rows;
# two dry runs at once take turns at it, for the rest of the first one's transaction).
ANALYZE_STAGED = Sql("ANALYZE import_rows")

# This community's members without a phone, by what makes one the same person in a file.
_KNOWN_WITHOUT_PHONE = (
    "(SELECT DISTINCT ON (u.display_name, COALESCE(m.compound_id, 0), COALESCE(m.building_id, 0))"
    " u.id, u.display_name, COALESCE(m.compound_id, 0) AS compound_key,"
    " COALESCE(m.building_id, 0) AS building_key"
    " FROM memberships m JOIN users u ON u.id = m.user_id"
    " WHERE m.community_id = :community AND u.phone IS NULL ORDER BY 2, 3, 4, u.id)"
)

# What the import would do with each row, as the dry run tells it.
FORECAST = Sql(
    "SELECT count(*) FILTER (WHERE r.errors <> '{}') AS rejected,"  # noqa: S608 - composed of constants only
    " count(*) FILTER (WHERE r.errors = '{}' AND COALESCE(u.id, k.id) IS NULL) AS created,"
    " count(*) FILTER (WHERE r.errors = '{}' AND u.id IS NOT NULL AND m.id IS NULL) AS joined,"
    " count(*) FILTER (WHERE r.errors = '{}' AND (m.id IS NOT NULL OR k.id IS NOT NULL)) AS unchanged,"
    " count(*) AS total "
    "FROM import_rows r"
    " LEFT JOIN users u ON u.phone = r.phone"
    " LEFT JOIN memberships m ON m.user_id = u.id AND m.community_id = :community"
    f" LEFT JOIN {_KNOWN_WITHOUT_PHONE} k ON r.phone IS NULL AND r.no_phone"
    "  AND k.display_name = r.name AND k.compound_key = COALESCE(r.compound_id, 0)"
    "  AND k.building_key = COALESCE(r.building_id, 0) "
    "WHERE r.run_id = :run"
)

_CHUNK_ROWS = "r.run_id = :run AND r.row_no BETWEEN :first AND :last AND r.errors = '{}'"

# The import of one chunk, statement by statement in one transaction.
FIND_KNOWN_PHONES = Sql(
    "UPDATE import_rows r SET user_id = u.id FROM users u"  # noqa: S608 - composed of constants only
    f" WHERE {_CHUNK_ROWS} AND r.user_id IS NULL AND u.phone = r.phone"
)
FIND_KNOWN_WITHOUT_PHONE = Sql(
    f"UPDATE import_rows r SET user_id = k.id FROM {_KNOWN_WITHOUT_PHONE} k"  # noqa: S608 - composed of constants only
    f" WHERE {_CHUNK_ROWS} AND r.user_id IS NULL AND r.phone IS NULL AND r.no_phone"
    " AND k.display_name = r.name AND k.compound_key = COALESCE(r.compound_id, 0)"
    " AND k.building_key = COALESCE(r.building_id, 0)"
)
# A phone another import or an enrolment took meanwhile is left to FIND_KNOWN_PHONES, run again.
CREATE_WITH_PHONE = Sql(
    "WITH made AS ("  # noqa: S608 - composed of constants only
    " INSERT INTO users (phone, display_name)"
    f" SELECT r.phone, r.name FROM import_rows r WHERE {_CHUNK_ROWS}"
    "  AND r.user_id IS NULL AND r.phone IS NOT NULL ORDER BY r.row_no"
    " ON CONFLICT (phone) DO NOTHING RETURNING id, phone) "
    "UPDATE import_rows r SET user_id = made.id, outcome = 'created' FROM made"
    " WHERE r.run_id = :run AND r.row_no BETWEEN :first AND :last AND r.phone = made.phone"
)
# A person without a phone has no key to conflict on: their ids are taken from the users'
# sequence first, so each row knows its person.
CREATE_WITHOUT_PHONE = Sql(
    "WITH ids AS ("  # noqa: S608 - composed of constants only
    " SELECT r.row_no, nextval(pg_get_serial_sequence('users', 'id')) AS id FROM import_rows r"
    f" WHERE {_CHUNK_ROWS} AND r.user_id IS NULL AND r.phone IS NULL AND r.no_phone),"
    " tagged AS (UPDATE import_rows r SET user_id = ids.id, outcome = 'created' FROM ids"
    "  WHERE r.run_id = :run AND r.row_no = ids.row_no RETURNING r.user_id, r.name) "
    "INSERT INTO users (id, phone, display_name) SELECT user_id, NULL, name FROM tagged ORDER BY user_id"
)
JOIN_HERE = Sql(
    "WITH joined AS ("  # noqa: S608 - composed of constants only
    " INSERT INTO memberships (user_id, community_id, roles, compound_id, building_id, room)"
    " SELECT r.user_id, :community, r.roles, r.compound_id, r.building_id, '' FROM import_rows r"
    f" WHERE {_CHUNK_ROWS} AND r.user_id IS NOT NULL ORDER BY r.row_no"
    " ON CONFLICT (user_id, community_id) DO NOTHING RETURNING user_id) "
    "UPDATE import_rows r SET outcome = COALESCE(r.outcome, 'joined') FROM joined"
    " WHERE r.run_id = :run AND r.row_no BETWEEN :first AND :last AND r.user_id = joined.user_id"
)
SETTLE = Sql(
    "UPDATE import_rows r SET outcome = CASE WHEN r.errors <> '{}' THEN 'rejected' ELSE 'unchanged' END"  # noqa: S608 - composed of constants only
    " WHERE r.run_id = :run AND r.row_no BETWEEN :first AND :last AND r.outcome IS NULL"
)
AUDIT_PEOPLE = Sql(
    "INSERT INTO audit_entries (community_id, actor_id, action, target, data, created_at)"  # noqa: S608 - composed of constants only
    " SELECT :community, CAST(:actor AS bigint),"
    " CASE r.outcome WHEN 'created' THEN 'resident.imported' ELSE 'membership.imported' END,"
    " 'user:' || r.user_id, jsonb_build_object('import', r.run_id, 'row', r.row_no, 'roles', r.roles), now()"
    " FROM import_rows r WHERE r.run_id = :run AND r.row_no BETWEEN :first AND :last"
    " AND r.outcome IN ('created', 'joined')"
)
COUNT = Sql(
    "UPDATE import_runs SET done_rows = c.done, created = c.created, joined = c.joined,"  # noqa: S608 - composed of constants only
    " unchanged = c.unchanged, rejected = c.rejected"
    " FROM (SELECT count(*) FILTER (WHERE outcome IS NOT NULL) AS done,"
    "  count(*) FILTER (WHERE outcome = 'created') AS created,"
    "  count(*) FILTER (WHERE outcome = 'joined') AS joined,"
    "  count(*) FILTER (WHERE outcome = 'unchanged') AS unchanged,"
    "  count(*) FILTER (WHERE outcome = 'rejected') AS rejected"
    "  FROM import_rows WHERE run_id = :run) c WHERE import_runs.id = :run"
)
_CLAIM = text(
    "UPDATE import_runs SET status = 'running', started_at = COALESCE(started_at, now()),"
    " heartbeat_at = now(), attempts = attempts + 1 WHERE id = ("
    " SELECT id FROM import_runs WHERE status = 'queued' ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1"
    ") RETURNING id"
)
# A job that died leaves its run running without a heartbeat: queued again (its finished chunks
# are skipped), or failed after ATTEMPTS attempts.
STALE = timedelta(minutes=5)
ATTEMPTS = 3
_REVIVE = text(
    "UPDATE import_runs SET status = CASE WHEN attempts >= :most THEN 'failed' ELSE 'queued' END,"
    " finished_at = CASE WHEN attempts >= :most THEN now() END"
    " WHERE status = 'running' AND COALESCE(heartbeat_at, started_at, created_at) < :before"
)


@dataclass(frozen=True)
class Forecast:
    """What the import would do: new residents, known phones that join, rows left as they are,
    rows refused."""

    created: int
    joined: int
    unchanged: int
    rejected: int
    total: int

    @property
    def importable(self) -> int:
        return self.total - self.rejected


async def check_file(
    session: AsyncSession, actor: Actor, community_id: int, upload: TableFile, address: str | None = None
) -> ImportRun:
    """The dry run: reads the file, stages its rows and checks them; writes nothing else but the
    run and its audit entry."""
    await community_for(session, actor, community_id, *IMPORTERS)
    header, table = files.table(upload)
    may_grant = rules.grantable(admin=actor.has(community_id, "admin"))
    rows = [rules.read_row(row_no, cells, header, may_grant=may_grant) for row_no, cells in table]
    run = ImportRun(
        community_id=community_id,
        user_id=actor.user_id,
        filename=upload.filename,
        kind=upload.kind,
        status="checked",
        total_rows=len(rows),
    )
    session.add(run)
    await session.flush()
    conn = await connection_of(session)
    await conn.copy_records_to_table(
        "import_rows", records=[(run.id, *row.record()) for row in rows], columns=("run_id", *STAGED)
    )
    await ANALYZE_STAGED.execute(conn)
    await CHECK.execute(conn, {"run": run.id, "community": community_id})
    await audit.record(
        session,
        action="residents.import_checked",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"import:{run.id}",
        address=address,
        file=upload.filename,
        rows=len(rows),
    )
    return run


async def run_of(
    session: AsyncSession, actor: Actor, community_id: int, run_id: int
) -> tuple[Community, ImportRun]:
    """An import of this community, for its admins and staff."""
    community = await community_for(session, actor, community_id, *IMPORTERS)
    run = await session.get(ImportRun, run_id)
    if run is None or run.community_id != community_id:
        raise NotFound()
    return community, run


async def forecast(conn: Connection | AsyncSession, run: ImportRun) -> Forecast:
    row = await FORECAST.one(conn, {"run": run.id, "community": run.community_id})
    return Forecast(row["created"], row["joined"], row["unchanged"], row["rejected"], row["total"])


NOT_WAITING = lazy("This file has already been imported, or its check has expired. Please upload it again.")
NOTHING_TO_IMPORT = lazy("No row of this file can be imported. Please correct the file and upload it again.")


async def confirm(
    session: AsyncSession, actor: Actor, community_id: int, run_id: int, address: str | None = None
) -> ImportRun:
    """Queues a checked file for the import job (once: a second confirmation is refused)."""
    _community, run = await run_of(session, actor, community_id, run_id)
    queued = await session.execute(
        update(ImportRun)
        .where(ImportRun.id == run.id, ImportRun.status == "checked")
        .values(status="queued")
        .returning(ImportRun.id)
    )
    if queued.first() is None:
        raise DomainError("already_done", 409, NOT_WAITING)
    if (await forecast(session, run)).importable == 0:
        raise DomainError("conflict", 409, NOTHING_TO_IMPORT)
    await audit.record(
        session,
        action="residents.import_confirmed",
        actor_id=actor.user_id,
        community_id=community_id,
        target=f"import:{run.id}",
        address=address,
        file=run.filename,
        rows=run.total_rows,
    )
    await jobs.wake(session, JOB)
    await session.refresh(run)
    return run


async def rejected_rows(
    session: AsyncSession, run: ImportRun, limit: int | None = None
) -> Sequence[ImportRow]:
    stmt = (
        select(ImportRow).where(ImportRow.run_id == run.id, ImportRow.errors != []).order_by(ImportRow.row_no)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return (await session.scalars(stmt)).all()


async def new_without_phone(session: AsyncSession, run: ImportRun) -> list[int]:
    """The people this import made who have no phone: theirs are the cards to print."""
    found = await session.scalars(
        select(ImportRow.user_id)
        .where(
            ImportRow.run_id == run.id,
            ImportRow.outcome == "created",
            ImportRow.phone.is_(None),
            ImportRow.user_id.is_not(None),
        )
        .order_by(ImportRow.row_no)
    )
    return [int(user_id) for user_id in found.all() if user_id is not None]


async def count_runs(session: AsyncSession, community_id: int) -> int:
    """How many imports the community has made, as `recent` lists them over its pages."""
    return int(
        await session.scalar(
            select(func.count()).select_from(ImportRun).where(ImportRun.community_id == community_id)
        )
        or 0
    )


async def recent(
    session: AsyncSession, community_id: int, limit: int = 10, offset: int = 0
) -> Sequence[ImportRun]:
    """The community's imports, the newest first, a page at a time."""
    return (
        await session.scalars(
            select(ImportRun)
            .where(ImportRun.community_id == community_id)
            .order_by(ImportRun.id.desc())
            .offset(offset)
            .limit(limit)
        )
    ).all()


# ---------------------------------------------------------------- the job


# One chunk at a time per community: two imports of the same people (a file uploaded twice and
# confirmed twice, taken by two workers) must not both make a person without a phone, who has no
# key to conflict on.
LOCK_COMMUNITY = Sql("SELECT pg_advisory_xact_lock(20261130, CAST(:community AS integer))")


async def _import_chunk(conn: Connection, run: ImportRun, first: int, last: int) -> None:
    params = {"run": run.id, "community": run.community_id, "first": first, "last": last}
    await LOCK_COMMUNITY.execute(conn, {"community": run.community_id % 2_147_483_647})
    await FIND_KNOWN_PHONES.execute(conn, params)
    await FIND_KNOWN_WITHOUT_PHONE.execute(conn, params)
    await CREATE_WITH_PHONE.execute(conn, params)
    await FIND_KNOWN_PHONES.execute(conn, params)
    await CREATE_WITHOUT_PHONE.execute(conn, params)
    await JOIN_HERE.execute(conn, params)
    await SETTLE.execute(conn, params)
    await AUDIT_PEOPLE.execute(conn, {**params, "actor": run.user_id})
    await COUNT.execute(conn, {"run": run.id})


async def make(engine: AsyncEngine, run_id: int) -> None:
    """Imports one claimed run, a chunk of rows per transaction; each records its progress, so
    the run's page sees it advance, and a run that stopped half way can be run again."""
    maker = async_sessionmaker(engine, expire_on_commit=False)
    async with maker() as s:
        run = await s.get(ImportRun, run_id)
        staged = await s.scalar(select(func.count()).select_from(ImportRow).where(ImportRow.run_id == run_id))
        # The rows of chunks a job that died had finished are settled already: skipped.
        numbers = list(
            (
                await s.scalars(
                    select(ImportRow.row_no)
                    .where(ImportRow.run_id == run_id, ImportRow.outcome.is_(None))
                    .order_by(ImportRow.row_no)
                )
            ).all()
        )
    if run is None or staged != run.total_rows:
        # The staged rows are gone (the unlogged table was emptied after a crash).
        await progress.beside(
            engine,
            update(ImportRun).where(ImportRun.id == run_id).values(status="failed", finished_at=clock.now()),
        )
        return
    for at in range(0, len(numbers), CHUNK):
        chunk = numbers[at : at + CHUNK]
        async with maker() as s, s.begin():
            await _import_chunk(await connection_of(s), run, chunk[0], chunk[-1])
    async with maker() as s, s.begin():
        await s.execute(
            update(ImportRun).where(ImportRun.id == run_id).values(status="done", finished_at=clock.now())
        )
        run = await s.get(ImportRun, run_id, populate_existing=True)
        assert run is not None
        await audit.record(
            s,
            action="residents.imported",
            actor_id=run.user_id,
            community_id=run.community_id,
            target=f"import:{run.id}",
            file=run.filename,
            rows=run.total_rows,
            created=run.created,
            joined=run.joined,
            unchanged=run.unchanged,
            rejected=run.rejected,
        )


async def make_queued(session: AsyncSession) -> None:
    """Imports the queued files one after the other; clears the rows of old runs."""
    engine = session.bind
    assert isinstance(engine, AsyncEngine)
    await clear_old(engine)
    async with async_sessionmaker(engine)() as s, s.begin():
        await s.execute(_REVIVE, {"before": clock.now() - STALE, "most": ATTEMPTS})
    while True:
        async with async_sessionmaker(engine)() as s, s.begin():
            run_id = (await s.execute(_CLAIM)).scalar()
        if run_id is None:
            return
        try:
            await make(engine, int(run_id))
        except Exception:
            await progress.beside(
                engine,
                update(ImportRun)
                .where(ImportRun.id == int(run_id))
                .values(status="failed", finished_at=clock.now()),
            )
            raise


async def clear_old(engine: AsyncEngine) -> None:
    """A checked file nobody confirmed, and the rows of an old import, are let go."""
    now = clock.now()
    async with async_sessionmaker(engine)() as s, s.begin():
        expired = (
            await s.scalars(
                update(ImportRun)
                .where(
                    ((ImportRun.status == "checked") & (ImportRun.created_at < now - KEEP_CHECKED))
                    | (ImportRun.status.in_(("done", "failed")) & (ImportRun.created_at < now - KEEP_ROWS))
                )
                .values(status="expired")
                .returning(ImportRun.id)
            )
        ).all()
        if expired:
            await s.execute(delete(ImportRow).where(ImportRow.run_id.in_(expired)))
