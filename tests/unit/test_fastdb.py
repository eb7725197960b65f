"""The fast path sends PostgreSQL exactly the SQL an AsyncSession would send for the same text()."""

from __future__ import annotations

import importlib

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.sql.elements import TextClause

from app.core.fastdb import _positional

# The modules whose statements run on app.core.fastdb.
FAST_MODULES = (
    "app.accounts.services",
    "app.core.audit",
    "app.events.checkins",
    "app.events.services",
    "app.ledger.controllers",
    "app.ledger.services",
    "app.scans.services",
    "app.store.orders",
    "app.store.placing",
    "app.store.services",
)


def _statements() -> list[tuple[str, TextClause]]:
    found = []
    for name in FAST_MODULES:
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if isinstance(value, TextClause):
                found.append((f"{name}.{attr}", value))
    return found


def _as_session_sends(statement: TextClause) -> tuple[str, tuple[str, ...]]:
    compiled = statement.compile(dialect=asyncpg.dialect())
    return str(compiled), tuple(compiled.positiontup or ())


def test_the_fast_path_modules_have_statements_to_compare() -> None:
    assert len(_statements()) >= 30


@pytest.mark.parametrize(("where", "statement"), _statements(), ids=lambda v: v if isinstance(v, str) else "")
def test_each_statement_is_sent_as_sqlalchemy_would_send_it(where: str, statement: TextClause) -> None:
    assert _positional(statement.text) == _as_session_sends(statement), where


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 'hold:' || :id || '\\:post'",  # an escaped colon is text, not a parameter
        "SELECT :a, :b, :a",  # a repeated name is one parameter
        "SELECT CAST(:n AS bigint), :n::int",  # `::type` after a name is not a parameter
        "SELECT '12:30', now()::date",
    ],
)
def test_parameters_and_escapes_match_sqlalchemy(sql: str) -> None:
    assert _positional(sql) == _as_session_sends(text(sql))


def test_connection_arguments_keep_the_urls_tls_and_socket_settings() -> None:
    from app.core.fastdb import connect_arguments

    assert connect_arguments("postgresql+asyncpg://app:pw@db.example:5433/jinlin?ssl=require") == {
        "user": "app",
        "password": "pw",
        "host": "db.example",
        "port": 5433,
        "database": "jinlin",
        "ssl": "require",
    }
    assert connect_arguments("postgresql+asyncpg://postgres@/jinlin?host=/run/pg") == {
        "user": "postgres",
        "host": "/run/pg",
        "database": "jinlin",
    }
