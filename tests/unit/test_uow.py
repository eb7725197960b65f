"""app.core.uow.Sql: statements are written with `:name` parameters and sent as SQLAlchemy's
asyncpg dialect numbers them; the hot-path modules' statements are all Sql."""

from __future__ import annotations

import importlib

import pytest
from sqlalchemy.sql.elements import TextClause

from app.core.uow import Sql, connect_arguments

# The modules whose statements run on the request's asyncpg connection (app.accounts.services
# has some, beside statements its pages run on their session).
HOT_MODULES = (
    "app.core.audit",
    "app.events.checkins",
    "app.ledger.admin",
    "app.ledger.api",
    "app.ledger.expiry",
    "app.ledger.services",
    "app.scans.services",
    "app.store.placing",
)


@pytest.mark.parametrize(
    ("source", "sent", "names"),
    [
        ("SELECT :a, :b, :a", "SELECT $1, $2, $1", ("a", "b")),  # a repeated name is one parameter
        ("SELECT 'hold:' || :id || '\\:post'", "SELECT 'hold:' || $1 || ':post'", ("id",)),
        # `::type` right after a name leaves it text (SQLAlchemy's rule): statements write CAST.
        ("SELECT CAST(:n AS bigint), :n::int", "SELECT CAST($1 AS bigint), :n::int", ("n",)),
        ("SELECT '12:30', now()::date", "SELECT '12:30', now()::date", ()),
    ],
)
def test_parameters_are_numbered_once_and_escapes_kept(
    source: str, sent: str, names: tuple[str, ...]
) -> None:
    statement = Sql(source)
    assert (statement.text, statement.names) == (sent, names)


def test_arguments_follow_the_numbering() -> None:
    statement = Sql("SELECT :b, :a, :b")
    assert statement.args({"a": 1, "b": 2, "unused": 3}) == [2, 1]
    with pytest.raises(KeyError):
        statement.args({"a": 1})


@pytest.mark.parametrize("name", HOT_MODULES)
def test_hot_path_statements_are_compiled_once_not_sent_as_text(name: str) -> None:
    module = importlib.import_module(name)
    left_as_text = [attr for attr, value in vars(module).items() if isinstance(value, TextClause)]
    assert left_as_text == []
    assert any(isinstance(value, Sql) for value in vars(module).values())


def test_connection_arguments_keep_the_urls_tls_and_socket_settings() -> None:
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
