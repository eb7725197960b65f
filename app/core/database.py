"""Database plumbing: the declarative base, the embedded server and engine URLs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_embedded: Any = None


def start_embedded(data_dir: Path) -> str:
    """Start (or join) the embedded PostgreSQL in ``data_dir/pg`` and return its asyncpg URL.

    pgserver counts the processes holding the server; it stops when the last one exits,
    so `jinlin admin create` may run beside `jinlin serve` on the same directory.
    """
    global _embedded
    import warnings

    with warnings.catch_warnings():
        # platformdirs warns about a missing XDG_RUNTIME_DIR on servers; harmless here.
        warnings.simplefilter("ignore")
        import pgserver  # imported lazily: not needed with an external server

    data_dir.mkdir(parents=True, exist_ok=True)
    _embedded = pgserver.get_server(data_dir / "pg", cleanup_mode="stop")
    exists = _embedded.psql("SELECT 1 FROM pg_database WHERE datname = 'jinlin';")
    if "1 row" not in exists:
        _embedded.psql("CREATE DATABASE jinlin;")
    socket_dir = str(data_dir / "pg")
    return f"postgresql+asyncpg://postgres@/jinlin?host={socket_dir}"


def stop_embedded() -> None:
    global _embedded
    if _embedded is not None:
        _embedded.cleanup()
        _embedded = None


def resolve_database_url(database_url: str | None, data_dir: Path) -> str:
    """The URL to use: the configured one, or the embedded server's (started on demand)."""
    if database_url:
        return normalise_url(database_url)
    inherited = os.environ.get("JINLIN_EMBEDDED_URL")
    if inherited:
        return inherited
    url = start_embedded(data_dir)
    # Worker processes and subprocesses reuse the server this process started.
    os.environ["JINLIN_EMBEDDED_URL"] = url
    return url


def normalise_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    return url


def sync_url(url: str) -> str:
    """The psycopg (sync) form of an asyncpg URL, used by Alembic."""
    return url.replace("postgresql+asyncpg://", "postgresql+psycopg://", 1)


def libpq_url(url: str) -> str:
    """Plain libpq URL (for psql, pgbench and asyncpg.connect)."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1).replace(
        "postgresql+psycopg://", "postgresql://", 1
    )
