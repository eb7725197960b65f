"""How many PostgreSQL connections `jinlin serve` may open, and whether the server has room for
them (docs/scaling.md, "Connections").

Every worker process has its own pools on the primary, each named in pg_stat_activity's
`application_name`: asyncpg's for the hot routes, SQLAlchemy's for the pages and the change
feed's listening connection (with a replica, the reports' small pool is there, not on the
primary). One of the workers also runs the job worker when jobs run in process. The figures are
read from the pools' own settings, so they change with them. Past PostgreSQL's
`max_connections`, a connection is refused ("too many clients") and the request that wanted it
is answered 503: `jinlin serve` says so at start, before the morning peak does."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import asyncpg

from app.core import changes, jobs, uow
from app.core.database import PAGE_POOL, EmbeddedPostgres
from app.core.settings import Settings

log = logging.getLogger("jinlin.connections")

# Connections beyond the app's an embedded server keeps free (`jinlin admin create`, psql).
HEADROOM = 10


def per_worker() -> dict[str, int]:
    """The most connections one worker process opens on the primary, by application name."""
    return {
        "jinlin": uow.POOL_SIZE,
        "jinlin pages": PAGE_POOL["pool_size"] + PAGE_POOL["max_overflow"],
        changes.APPLICATION_NAME: 1,  # one listening connection
    }


def needed(settings: Settings, workers: int) -> int:
    """The most connections `jinlin serve --workers N` opens on the primary."""
    return workers * sum(per_worker().values()) + (jobs.CONNECTIONS if settings.run_jobs_in_process else 0)


@dataclass(frozen=True)
class Room:
    """What a PostgreSQL server leaves for the app."""

    max_connections: int
    reserved: int  # for superusers (and, from PostgreSQL 16, for pg_use_reserved_connections)
    in_use: int  # client connections open now, other than the one that asked

    @property
    def free(self) -> int:
        return self.max_connections - self.reserved - self.in_use


ROOM = """
SELECT current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int
         + coalesce(current_setting('reserved_connections', true)::int, 0),
       (SELECT count(*) FROM pg_stat_activity
        WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())::int
"""


async def read_room(url: str) -> Room:
    connection = await asyncpg.connect(**uow.connect_arguments(url), timeout=10)
    try:
        row = await connection.fetchrow(ROOM)
    finally:
        await connection.close()
    return Room(max_connections=row[0], reserved=row[1], in_use=row[2])


def warning(settings: Settings, workers: int, room: Room) -> str | None:
    """The warning for a server without room for `workers` workers, or None."""
    want = needed(settings, workers)
    if want <= room.free:
        return None
    each = sum(per_worker().values())
    jobs_part = jobs.CONNECTIONS if settings.run_jobs_in_process else 0
    sum_text = f"{workers} × {each}" + (f" + {jobs_part} for the jobs" if jobs_part else "")
    fits = (room.free - jobs_part) // each
    fewer = f"start fewer workers (--workers {fits} fits)" if fits > 0 else "start fewer workers"
    return (
        f"PostgreSQL has room for {room.free} more connections (max_connections {room.max_connections}, "
        f"{room.reserved} reserved, {room.in_use} in use by others), and {workers} worker(s) may open "
        f"{sum_text} = {want}: under load, requests will be answered 503 unavailable. To avoid it, "
        f'{fewer}, raise max_connections, or put PgBouncer in front (docs/scaling.md, "Connections").'
    )


def check_at_start(settings: Settings, url: str, workers: int, server: EmbeddedPostgres | None) -> str | None:
    """`jinlin serve`'s master, before it starts its workers: an embedded server is given room
    for them; with another one, a server without room is warned of (the app starts all the
    same). Returns the warning logged, if any."""
    try:
        room = asyncio.run(read_room(url))
        if server is not None and room.free < needed(settings, workers):
            server.allow_connections(room.max_connections + needed(settings, workers) - room.free + HEADROOM)
            room = asyncio.run(read_room(url))
    except (OSError, asyncpg.PostgresError) as exc:
        log.warning("could not read PostgreSQL's max_connections (%s); the connections were not counted", exc)
        return None
    message = warning(settings, workers, room)
    if message:
        log.warning("%s", message)
    return message
