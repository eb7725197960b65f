"""Alembic: every migration applies on an empty database and builds exactly the models' tables (plus
the job queue's), each one goes down again, and down to base and up again gives the same schema;
the models agree column by column with what the migrations build."""

from __future__ import annotations

import asyncio
import functools
import os

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from app.core.database import Base, libpq_url, sync_url
from app.core.fields import holds_unsafe
from app.core.migrate import alembic_config, downgrade, upgrade
from app.domains import import_models

# procrastinate's own schema, which migration 0002 installs (its models are not ours).
JOB_QUEUE_TABLES = {
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_jobs",
    "procrastinate_workers",
}


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(libpq_url(url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture
def fresh_database(database_url: str):
    """A second, empty database on the same server as the test database."""
    name = f"jinlin_migrations_{os.getpid()}"
    asyncio.run(_admin(database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    asyncio.run(_admin(database_url, f"CREATE DATABASE {name}"))
    head, _, tail = database_url.partition("?")
    url = head.rsplit("/", 1)[0] + f"/{name}" + (f"?{tail}" if tail else "")
    yield url
    asyncio.run(_admin(database_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def _tables(url: str) -> set[str]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            return set(inspect(conn).get_table_names())
    finally:
        engine.dispose()


# Everything a migration can make in the public schema, as text that compares whole: columns with
# their types, defaults and nullability; constraints and indexes with their definitions; functions,
# triggers, sequences and types.
_SCHEMA_SQL = """
SELECT 'column ' || c.table_name || '.' || c.column_name || ' ' || c.data_type || ' '
       || coalesce(c.column_default, '-') || ' ' || c.is_nullable
  FROM information_schema.columns c WHERE c.table_schema = 'public'
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'function ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc)
  FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
UNION ALL
SELECT 'trigger ' || tgrelid::regclass || ' ' || pg_get_triggerdef(oid)
  FROM pg_trigger WHERE NOT tgisinternal
UNION ALL
SELECT 'sequence ' || sequence_name FROM information_schema.sequences WHERE sequence_schema = 'public'
UNION ALL
SELECT 'type ' || t.typname FROM pg_type t
  WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'c')
    AND NOT EXISTS (SELECT 1 FROM pg_class r WHERE r.reltype = t.oid)
"""


def _schema(url: str) -> list[str]:
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            lines = (str(row[0]) for row in conn.execute(text(_SCHEMA_SQL)))
            return sorted(line for line in lines if "alembic_version" not in line)
    finally:
        engine.dispose()


@functools.cache
def _script() -> ScriptDirectory:
    """The migrations' scripts, read once: Alembic reads every revision's file again for each
    ScriptDirectory, and the walk down and up asked for one at each of its hundred-odd states."""
    return ScriptDirectory.from_config(alembic_config("postgresql+asyncpg://unused/none"))


def _applied(url: str) -> frozenset[str]:
    """The revisions applied: the ones alembic_version names and all below them."""
    script = _script()
    engine = create_engine(sync_url(url))
    try:
        with engine.connect() as conn:
            heads = [str(v) for v in conn.execute(text("SELECT version_num FROM alembic_version")).scalars()]
    finally:
        engine.dispose()
    applied: set[str] = set()
    todo = list(heads)
    while todo:
        revision = todo.pop()
        if revision not in applied:
            applied.add(revision)
            down = script.get_revision(revision).down_revision
            todo.extend(down if isinstance(down, tuple) else [down] if down else [])
    return frozenset(applied)


def test_the_migrations_build_exactly_the_models_tables(fresh_database: str):
    import_models()
    assert _tables(fresh_database) == set()
    upgrade(fresh_database)
    assert _tables(fresh_database) == set(Base.metadata.tables) | JOB_QUEUE_TABLES | {"alembic_version"}


def test_each_migration_goes_down_to_the_schema_it_was_applied_on(fresh_database: str):
    order = [revision.revision for revision in reversed(list(_script().walk_revisions()))]
    assert len(order) >= 6
    # Up one revision at a time (branches before their merge), noting the schema of each state.
    built = {frozenset(): _schema(fresh_database)}
    for revision in order:
        upgrade(fresh_database, revision)
        built[_applied(fresh_database)] = _schema(fresh_database)
    head = _schema(fresh_database)
    assert any(line.startswith("trigger ") for line in head)
    assert any(line.startswith("function ledger_transfers_immutable") for line in head)
    # Down one revision at a time: every state reached has exactly the schema it had going up.
    for below in [*order[:-1][::-1], "base"]:
        downgrade(fresh_database, below)
        state = _applied(fresh_database) if below != "base" else frozenset()
        assert _schema(fresh_database) == built[state], f"down to {below}"
    assert _tables(fresh_database) <= {"alembic_version"}
    # And up again to the same head.
    upgrade(fresh_database)
    assert _schema(fresh_database) == head


def _ours(tables: set[str]):
    """Only our own tables: the job queue's library manages its schema itself."""

    def include(name, type_, parent_names):
        if type_ == "table":
            return name in tables
        table = parent_names.get("table_name")
        return table is None or table in tables

    return include


def test_models_match_the_migrations(database_url: str):
    import_models()
    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_name": _ours(set(Base.metadata.tables))}
            )
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == [], diff


def _run(url: str, *statements: str) -> list[object]:
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as conn:
            return [
                conn.execute(text(s)).scalar() if s.startswith("SELECT") else conn.execute(text(s)) and None
                for s in statements
            ]
    finally:
        engine.dispose()


_A_COMMUNITY = (
    "INSERT INTO streets (name, district) VALUES ('鼓东街道', '鼓楼区')",
    "INSERT INTO communities (street_id, name, join_code, time_zone) "
    "SELECT id, '军门社区', 'jm', 'Asia/Shanghai' FROM streets",
)


def _donation(key: str, status: str, refunded: int, refunds: list[int]) -> tuple[str, ...]:
    """A donation of 100 yuan to wish 1, paid in, and its refund rows (one per part)."""
    made = (
        "INSERT INTO payments (community_id, kind, target_kind, target_id, amount_cents, currency, "
        f"idempotency_key, status, refunded_cents) SELECT id, 'donation', 'wish', 1, 10000, 'cny', '{key}', "
        f"'{status}', {refunded} FROM communities",
        "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, amount_cents, "
        f"payment_id) SELECT community_id, 'wish', 1, 'online', 10000, id FROM payments "
        f"WHERE idempotency_key = '{key}'",
    )
    return made + tuple(
        "INSERT INTO funding_contributions (community_id, target_kind, target_id, source, amount_cents, "
        f"payment_id) SELECT community_id, 'wish', 1, 'online', {-part}, id FROM payments "
        f"WHERE idempotency_key = '{key}'"
        for part in refunds
    )


def _revision(url: str) -> str:
    return str(_run(url, "SELECT version_num FROM alembic_version")[0])


def test_partial_refunds_go_down_only_when_nothing_refunded_in_part_would_be_lost(fresh_database: str):
    """Below 0039 a payment is refunded whole, once: a payment refunded in part, or in several
    parts, cannot be said there. The downgrade failed on the one-refund index with a bare unique
    violation (several parts), or went through and lost what had gone back (one part: the payment
    read as paid in full). It now refuses, naming the payments, and changes nothing; with only
    whole refunds it goes down."""
    upgrade(fresh_database, "0039")
    _run(fresh_database, *_A_COMMUNITY, *_donation("whole", "refunded", 10000, [10000]))
    _run(fresh_database, *_donation("part", "paid", 3000, [3000]))
    _run(fresh_database, *_donation("parts", "refunded", 10000, [3000, 7000]))
    part, parts = _run(
        fresh_database,
        "SELECT id FROM payments WHERE idempotency_key = 'part'",
        "SELECT id FROM payments WHERE idempotency_key = 'parts'",
    )
    with pytest.raises(Exception, match=rf"refunded in part.*payments {part}, {parts}\b"):
        downgrade(fresh_database, "0038")
    assert _revision(fresh_database) == "0039"
    assert _run(fresh_database, "SELECT sum(refunded_cents) FROM payments") == [23000]


def test_whole_refunds_go_down_below_partial_refunds(fresh_database: str):
    upgrade(fresh_database, "0039")
    _run(fresh_database, *_A_COMMUNITY, *_donation("whole", "refunded", 10000, [10000]))
    _run(fresh_database, *_donation("kept", "paid", 0, []))
    downgrade(fresh_database, "0038")
    assert _revision(fresh_database) == "0038"
    upgrade(fresh_database, "0039")
    assert _run(fresh_database, "SELECT sum(refunded_cents) FROM payments") == [10000]


RLO, LRM, RLI, PDI = "\u202e", "\u200e", "\u2067", "\u2069"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def test_stored_names_lose_their_direction_marks_and_become_nfc(fresh_database: str):
    """Migration 0048: names and titles stored before `human_text` guarded them (a U+202E shows a
    name reversed on the counter's screen; a text not in NFC) are cleaned by the same rule."""
    url = fresh_database
    upgrade(url, "0047")
    _run(
        url,
        f"INSERT INTO streets (name, district) VALUES ({_quoted(RLO + '鼓东街道')}, '鼓楼区')",
        "INSERT INTO streets (name, district) VALUES ('温泉街道', '鼓楼区')",
        "INSERT INTO communities (street_id, name, join_code, time_zone) "
        f"SELECT id, {_quoted('军门' + LRM + '社区')}, 'jm', 'Asia/Shanghai' FROM streets "
        "WHERE name LIKE '%鼓东街道'",
        # Two names that read the same once the mark is gone, where names are unique in a street.
        "INSERT INTO communities (street_id, name, join_code, time_zone) "
        "SELECT street_id, '军门社区', 'jm2', 'Asia/Shanghai' FROM communities",
        "INSERT INTO users (phone, display_name) VALUES "
        f"('13900000001', {_quoted(RLO + '张三' + PDI)}), ('13900000002', {_quoted('Jose' + chr(0x301))}), "
        f"('13900000003', {_quoted(RLI + LRM)}), ('13900000004', '李四')",
        "INSERT INTO store_items (community_id, name, description, points_price) "
        f"SELECT min(id), {_quoted('大米' + LRM)}, {_quoted('第一行' + RLO + chr(10) + '第二行')}, 10 "
        "FROM communities",
    )
    upgrade(url, "0048")
    assert _revision(url) == "0048"
    names = dict(
        zip(
            ["one", "two", "three", "four"],
            _run(
                url,
                *(f"SELECT display_name FROM users WHERE phone = '1390000000{n}'" for n in range(1, 5)),
            ),
            strict=True,
        )
    )
    assert names == {"one": "张三", "two": "José", "three": f"#{_user_id(url, 3)}", "four": "李四"}
    street, community, twin = _run(
        url,
        "SELECT name FROM streets WHERE district = '鼓楼区' AND name <> '温泉街道'",
        "SELECT name FROM communities WHERE join_code = 'jm'",
        "SELECT name FROM communities WHERE join_code = 'jm2'",
    )
    community_id = _run(url, "SELECT id FROM communities WHERE join_code = 'jm'")[0]
    assert (street, twin) == ("鼓东街道", "军门社区")
    assert community == f"军门社区 (#{community_id})"
    item, description = _run(url, "SELECT name FROM store_items", "SELECT description FROM store_items")
    assert (item, description) == ("大米", "第一行\n第二行")
    for value in (*names.values(), street, community, item):
        assert not holds_unsafe(str(value))
    # Going down changes no schema and keeps the cleaned text; up again finds nothing to clean.
    downgrade(url, "0047")
    upgrade(url, "0048")
    assert _run(url, "SELECT display_name FROM users WHERE phone = '13900000001'") == ["张三"]


def _user_id(url: str, n: int) -> object:
    return _run(url, f"SELECT id FROM users WHERE phone = '1390000000{n}'")[0]
