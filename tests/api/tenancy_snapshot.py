"""The digest of both communities' rows that the route-table tenancy test compares before and
after each call (test_tenancy_by_route.py): one statement over every table of the schema, read
again only when PostgreSQL has written something since."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from tests.api.tenancy_world import TenancyWorld

UNWATCHED = {
    "alembic_version",
    # Written by any request or sign-in, whoever makes it.
    "auth_sessions",
    "attempt_counters",
    # The scan log keeps every scan, refused ones too (DESIGN.md §5), and a keyed answer.
    "scans",
    "scan_replies",
}


# Tables whose rows belong to a community through another table.
SCOPES = {
    "communities": "id = ANY(:cs)",
    "streets": "id IN (SELECT street_id FROM communities WHERE id = ANY(:cs))",
    "agreement_tasks": "agreement_id IN (SELECT id FROM agreements WHERE community_id = ANY(:cs))",
    "import_rows": "run_id IN (SELECT id FROM import_runs WHERE community_id = ANY(:cs))",
    "project_needs": "project_id IN (SELECT id FROM projects WHERE community_id = ANY(:cs))",
    "project_resources": "project_id IN (SELECT id FROM projects WHERE community_id = ANY(:cs))",
    "project_steps": "project_id IN (SELECT id FROM projects WHERE community_id = ANY(:cs))",
}


@dataclass
class Snapshot:
    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    lsn: str = ""
    digest: dict[str, tuple[int, str]] | None = None
    read: int = 0
    asked: int = 0


async def snapshot_sql(engine: Any, world: TenancyWorld) -> Snapshot:
    """One statement digesting every row of both communities, table by table: the rows that carry
    their community's id, else their people's or organisations' id, else (tables of neither)
    rows made since the world began."""
    async with async_sessionmaker(engine)() as s:
        rows = (
            await s.execute(
                text(
                    "SELECT table_name, array_agg(column_name::text || ':' || data_type)"
                    " FROM information_schema.columns WHERE table_schema = 'public'"
                    " GROUP BY table_name ORDER BY table_name"
                )
            )
        ).all()
    parts = []
    for table, typed in rows:
        columns = {c.split(":")[0]: c.split(":")[1] for c in typed}
        if table in UNWATCHED or table.startswith("procrastinate"):
            continue
        if table in SCOPES:
            where = SCOPES[table]
        elif "community_id" in columns:
            where = "community_id = ANY(:cs)"
        elif table == "users":
            where = "id = ANY(:us)"
        elif table == "organisations":
            where = "id = ANY(:os)"
        elif "user_id" in columns:
            where = "user_id = ANY(:us)"
        elif "organisation_id" in columns:
            where = "organisation_id = ANY(:os)"
        elif columns.get("id") == "bigint" or columns.get("id") == "integer":
            where = "id >= :since"
        else:
            where = "true"
        parts.append(
            f"SELECT '{table}' AS t, count(*) AS n,"  # noqa: S608 - the schema's own table names
            f" md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) AS d FROM {table} x WHERE {where}"
        )
    return Snapshot(
        " UNION ALL ".join(parts),
        {
            "cs": [world.mine.community_id, world.theirs.community_id],
            "us": world.user_ids,
            "os": world.organisation_ids,
            "since": 0,
        },
    )


async def take(engine: Any, snap: Snapshot) -> dict[str, tuple[int, str]]:
    """The digest of both communities' rows. Read again only when the server has written
    anything since the last one (its write-ahead log moved): most refusals write nothing, and the
    digest is the sweep's dearest statement."""
    async with async_sessionmaker(engine)() as s:
        lsn = str(await s.scalar(text("SELECT pg_current_wal_insert_lsn()")))
        if lsn != snap.lsn or snap.digest is None:
            snap.digest = {t: (n, d) for t, n, d in (await s.execute(text(snap.sql), snap.params)).all()}
            snap.lsn = str(await s.scalar(text("SELECT pg_current_wal_insert_lsn()")))
            snap.read += 1
        snap.asked += 1
        return snap.digest
