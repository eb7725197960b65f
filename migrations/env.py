"""Alembic environment: run by `jinlin db upgrade`, by `jinlin serve` and by the tests."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from app.core.database import Base, sync_url
from app.domains import import_models

import_models()
config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
