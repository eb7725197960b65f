"""What a scan sends PostgreSQL (docs/architecture.md, the unit of work): a use case of one
statement runs it with no transaction around it; one of several opens its transaction."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from app.core import clock, uow
from app.events import checkins
from app.scans import services as scan_services
from tests.events.conftest import kiosk_code, make_event, scan
from tests.plans import nodes
from tests.statements import logged, statements_sent, transaction_control


def _one_line(sql: str) -> str:
    return " ".join(sql.split())


async def test_a_kiosk_check_in_and_check_out_are_one_statement_each(app, client, site):
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id, capacity=None, reentry_allowed=True)
    checkin_code = await kiosk_code(client, admin, event_id, "checkin")
    with statements_sent(app) as sent:
        first = await scan(client, alice, checkin_code)
    assert first.status_code == 200, first.text
    assert transaction_control(sent) == []
    assert sent.count(_one_line(checkins.CHECK_IN_LOGGED.text)) == 1

    clock.advance(timedelta(hours=1))
    with statements_sent(app) as sent:
        out = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkout"))
    assert out.status_code == 200, out.text
    assert out.json()["points_awarded"] > 0
    assert transaction_control(sent) == []
    # Alice's first points made her wallet (statements of their own), then the check-out ran again.
    assert sent.count(_one_line(checkins.CHECK_OUT_LOGGED.text)) == 2

    clock.advance(timedelta(minutes=5))
    with statements_sent(app) as sent:
        again = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkin"))
        twice = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkin"))
        out = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkout"))
    assert [again.status_code, twice.status_code, out.status_code] == [200, 409, 200]
    assert transaction_control(sent) == []
    assert sent.count(_one_line(checkins.CHECK_OUT_LOGGED.text)) == 1  # her wallet is there now


async def test_a_check_in_that_takes_a_place_is_one_transaction(app, client, site, db):
    tenant, admin, alice, _bob = site
    event_id = await make_event(client, admin, tenant.community_id, capacity=1)
    with statements_sent(app) as sent:
        first = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkin"))
    assert first.status_code == 200, first.text
    assert transaction_control(sent) == ["BEGIN;", "COMMIT;"]


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"


async def test_a_check_out_finds_its_open_stay_by_key_not_among_every_open_stay(
    app, client, site, db, monkeypatch
):
    """The check-out's `stay` lock reads the one open stay of that person at that event: at a
    morning peak its plan (the generic one, which a pooled connection settles on) looks it up by
    key rather than reading the stays whole."""
    tenant, admin, alice, bob = site
    event_id = await make_event(client, admin, tenant.community_id, capacity=None, reentry_allowed=True)
    for person in (alice, bob):
        assert (
            await scan(client, person, await kiosk_code(client, admin, event_id, "checkin"))
        ).status_code == 200
    clock.advance(timedelta(hours=1))
    database = app.state["database"]
    plain = database.connection
    sent: list[Any] = []

    @asynccontextmanager
    async def recorded() -> AsyncIterator[Any]:
        async with plain() as conn:
            conn.add_query_logger(sent.append)
            try:
                yield conn
            finally:
                conn.remove_query_logger(sent.append)

    monkeypatch.setattr(database, "connection", recorded)
    out = await scan(client, alice, await kiosk_code(client, admin, event_id, "checkout"))
    assert out.status_code == 200, out.text
    args = next(r.args for r in sent if r.query == checkins.CHECK_OUT_LOGGED.text)
    conn = await uow.connection_of(db)
    # The plan follows the table's statistics: a table of a few rows is read whole whichever way
    # the statement is written, as CI's fresh database showed once autovacuum had analysed it.
    # The plan is made for a morning peak instead (rolled back below): the two residents have
    # 2,000 earlier stays here, and are in 500 other events at once.
    columns = await conn.fetchval(
        "SELECT string_agg(quote_ident(column_name), ', ') FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = 'events' AND column_name <> 'id'"
    )
    await conn.execute(
        f"WITH more AS (INSERT INTO events ({columns}) SELECT {columns} FROM events, "  # noqa: S608
        "generate_series(1, 500) WHERE id = $1 RETURNING id) "
        "INSERT INTO event_checkins (community_id, event_id, user_id, seq, checked_in_at, "
        "checked_out_at, method_in) SELECT c.community_id, coalesce(more.id, c.event_id), c.user_id, "
        "c.seq + g, c.checked_in_at, CASE WHEN more.id IS NULL THEN c.checked_in_at END, c.method_in "
        "FROM event_checkins c CROSS JOIN generate_series(1, 1000) g LEFT JOIN more ON more.id % 1000 = g "
        "WHERE c.event_id = $1",
        event_id,
    )
    await conn.execute("ANALYZE event_checkins")
    await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
    await conn.execute("PREPARE check_out_plan AS " + checkins.CHECK_OUT_LOGGED.text)
    found = await conn.fetchval(
        "EXPLAIN (FORMAT JSON) EXECUTE check_out_plan(" + ", ".join(_literal(a) for a in args) + ")"
    )
    await conn.execute("DEALLOCATE check_out_plan")
    await db.rollback()
    # ANALYZE's row count is written in place and outlives the rollback: count again.
    await (await uow.connection_of(db)).execute("ANALYZE event_checkins")
    await db.rollback()
    plan = (json.loads(found) if isinstance(found, str) else found)[0]["Plan"]
    stay = next(n for n in nodes(plan) if n.get("Subplan Name") == "CTE stay")
    reads = [n for n in nodes(stay) if n.get("Relation Name") == "event_checkins"]
    assert reads, stay
    for node in reads:
        assert node["Node Type"] in ("Index Scan", "Index Only Scan"), node
        assert "Index Cond" in node, node


def _in_transaction(sent: list[str]) -> list[str]:
    """The statements between BEGIN and COMMIT, and that there is one transaction."""
    assert transaction_control(sent) == ["BEGIN;", "COMMIT;"], sent
    return sent[sent.index("BEGIN;") + 1 : sent.index("COMMIT;")]


async def test_a_keyed_check_in_claims_its_key_first_and_keeps_its_answer_in_one_transaction(
    app, client, site
):
    """A scan sent with an idempotency key claims the key in its transaction before it runs, so
    that a copy sent at the same moment waits for it (tests/scans/test_key_bursts.py), and keeps
    its answer in the claim's row: two round trips more than the three it took when the answer
    was read before and written after (BEGIN and COMMIT), and a copy sent again takes three
    (one before). A scan without a key is one statement, as above."""
    tenant, admin, alice, bob = site
    event_id = await make_event(client, admin, tenant.community_id, capacity=None)
    code = await kiosk_code(client, admin, event_id, "checkin")
    # Bob's scan first: the worker now remembers the event's row (checkins.event_rows).
    assert (await scan(client, bob, code)).status_code == 200
    with statements_sent(app) as sent:
        first = await scan(client, alice, code, idempotency_key="phone-1")
        await logged(sent)
    assert first.status_code == 200 and first.json()["result"] == "checked_in", first.text
    claim, keep = _one_line(scan_services._CLAIM_KEY.text), _one_line(scan_services._KEEP_ANSWER.text)
    assert _in_transaction(sent) == [claim, _one_line(checkins.CHECK_IN_LOGGED.text), keep]

    with statements_sent(app) as sent:
        again = await scan(client, alice, code, idempotency_key="phone-1")
        await logged(sent)
    assert again.status_code == 200 and again.json() == first.json()
    assert _in_transaction(sent) == [claim]
