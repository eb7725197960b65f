"""Applies Alembic migrations; used by the CLI, `serve` and the tests.

A deployment migrates once, however many hosts start at the same moment: `upgrade` holds a
PostgreSQL advisory lock (session level, on a connection of its own) while Alembic runs, so a
second `jinlin db upgrade` or `jinlin serve` waits for the first and then finds the database at
the latest revision and does nothing. The lock is the database's, so it holds across hosts, and
PostgreSQL releases it by itself if the process holding it dies."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, pool, text

from app.core.database import sync_url

ROOT = Path(__file__).resolve().parent.parent.parent
# pg_advisory_lock's key for migrations: any fixed bigint no other code uses ('jinlin' in hex).
MIGRATION_LOCK = 0x6A696E6C696E
log = logging.getLogger("jinlin.migrate")


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` did: the revisions before and after, and whether it had to wait for
    another process's migrations."""

    before: tuple[str, ...]
    after: tuple[str, ...]
    waited: bool

    @property
    def applied(self) -> bool:
        return self.before != self.after


def _revisions(connection: Connection) -> tuple[str, ...]:
    return tuple(sorted(MigrationContext.configure(connection).get_current_heads()))


@contextlib.contextmanager
def migration_lock(database_url: str, on_wait: object = None) -> Iterator[tuple[Connection, bool]]:
    """Holds the migration lock while the block runs; yields a connection (outside any
    transaction) and whether the lock had to be waited for. `on_wait`, a callable, is told
    when another process holds it."""
    engine = create_engine(sync_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            got = connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            if not got:
                holder = connection.scalar(
                    text(
                        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                        "AND ((classid::bigint << 32) | objid::bigint) = :key LIMIT 1"
                    ),
                    {"key": MIGRATION_LOCK},
                )
                log.info("migrations: another process (backend %s) is migrating; waiting", holder)
                if callable(on_wait):
                    on_wait(holder)
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                yield connection, not got
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
    finally:
        engine.dispose()


def upgrade(database_url: str, revision: str = "heads", on_wait: object = None) -> Upgrade:
    """Migrates to `revision` under the migration lock; a database already there is left alone."""
    with migration_lock(database_url, on_wait) as (connection, waited):
        before = _revisions(connection)
        heads = tuple(sorted(ScriptDirectory.from_config(alembic_config(database_url)).get_heads()))
        if revision == "heads" and before == heads:
            return Upgrade(before, before, waited)
        command.upgrade(alembic_config(database_url), revision)
        return Upgrade(before, _revisions(connection), waited)


def downgrade(database_url: str, revision: str = "base") -> None:
    with migration_lock(database_url):
        command.downgrade(alembic_config(database_url), revision)
