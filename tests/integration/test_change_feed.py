"""What workers remember and PostgreSQL's row notifications (app.core.changes, migration 0009):
each change forgets only the rows it names, the triggers watch exactly the columns the cached
statements read, and a lost listening connection makes every memo forget until it is back."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.accounts import services as accounts
from app.accounts.actor_cache import NOTIFYING, ActorCache
from app.circle import vouchers
from app.core import clock
from app.core.authz import Actor
from app.core.changes import APPLICATION_NAME, CLOCK, ChangeFeed, Memo, Watch
from app.events.checkins import EVENT_COLUMNS, event_row_memo
from app.store import placing
from tests.conftest import refused_reconnections


async def until(condition, seconds: float = 5) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - the listener sets no event the test could await
            await asyncio.sleep(0.005)


async def heard_of_communities(feed, *tenants) -> None:
    """Returns once the feed has heard of each tenant's community being made. Polled: the feed
    hears in the started app's event loop, whose news wake no waiter in the test's own
    (`feed.heard` there returned only after its 2 s, unless it had heard before it looked)."""
    await until(lambda: all(feed.heard_at(("communities", "id", str(t.community_id))) for t in tenants))


@pytest.fixture
async def feed(app):
    """The app's own feed, live."""
    feed = app.state["actors"].feed
    await until(lambda: feed.live, 10)
    return feed


async def _rename(db, user_id: int, name: str) -> None:
    await db.execute(text("UPDATE users SET display_name = :n WHERE id = :u"), {"n": name, "u": user_id})
    await db.commit()


async def test_a_change_forgets_only_its_row(client, feed, factory, db):
    tenant = await factory.tenant()
    alice, bob = await factory.person(tenant), await factory.person(tenant)
    names: Memo[int, str] = Memo(feed, ("users",))
    for person in (alice, bob):
        names.put(names.generation, person.user_id, person.display_name)
    generation = names.generation
    await _rename(db, alice.user_id, "新名字")
    await until(lambda: names.generation != generation)
    assert names.get(alice.user_id) is None
    assert names.get(bob.user_id) == bob.display_name


async def test_an_entry_that_depends_on_several_rows_goes_with_any_of_them(client, feed, factory, db):
    """A memo keyed otherwise than by the row (Watch.keys): a pair of people, forgotten when
    either is renamed."""
    tenant = await factory.tenant()
    alice, bob, carol = [await factory.person(tenant) for _ in range(3)]
    pairs: Memo[str, tuple[int, int]] = Memo(feed, (Watch("users", "id", lambda _key, pair: pair),))
    pairs.put(pairs.generation, "ab", (alice.user_id, bob.user_id))
    pairs.put(pairs.generation, "bc", (bob.user_id, carol.user_id))
    generation = pairs.generation
    await _rename(db, carol.user_id, "新名字")
    await until(lambda: pairs.generation != generation)
    assert pairs.get("ab") == (alice.user_id, bob.user_id)
    assert pairs.get("bc") is None
    assert len(pairs) == 1


async def test_a_lookup_that_raced_with_a_change_of_its_row_is_not_kept(client, feed, factory, db):
    tenant = await factory.tenant()
    alice, bob = await factory.person(tenant), await factory.person(tenant)
    names: Memo[int, str] = Memo(feed, ("users",))
    begun = names.generation  # both lookups begin ...
    await _rename(db, alice.user_id, "新名字")  # ... alice is renamed while they run ...
    await until(lambda: names.generation != begun)
    names.put(begun, alice.user_id, "旧名字")  # ... so what alice's lookup read is dropped,
    names.put(begun, bob.user_id, bob.display_name)  # and bob's, untouched, is kept
    assert names.get(alice.user_id) is None
    assert names.get(bob.user_id) == bob.display_name


async def test_a_table_named_alone_forgets_all_of_it(client, feed, db):
    """What a TRUNCATE sends."""
    names: Memo[int, str] = Memo(feed, ("users",))
    events: Memo[int, str] = Memo(feed, ("events",))
    names.put(names.generation, 1, "x")
    events.put(events.generation, 1, "y")
    generation = names.generation
    await db.execute(text("SELECT pg_notify('jinlin_changes', 'users')"))
    await db.commit()
    await until(lambda: names.generation != generation)
    assert names.get(1) is None
    assert events.get(1) == "y"


async def test_a_communitys_time_zone_forgets_its_events_only(client, feed, factory, db):
    """The scan path's event rows carry their community's time zone."""
    here, there = await factory.tenant(), await factory.tenant()
    # Their creation's own notifications have come in.
    await heard_of_communities(feed, here, there)
    events = event_row_memo(feed)
    events.put(events.generation, 1, SimpleNamespace(community_id=here.community_id))
    events.put(events.generation, 2, SimpleNamespace(community_id=there.community_id))
    generation = events.generation
    await db.execute(
        text("UPDATE communities SET time_zone = 'Asia/Urumqi' WHERE id = :c"), {"c": here.community_id}
    )
    await db.commit()
    await until(lambda: events.generation != generation)
    assert events.get(1) is None
    assert events.get(2) is not None


async def test_a_stores_settings_forget_its_items_only(client, feed, factory, db):
    """The order path's item facts carry their store's pickup days."""
    here, there = await factory.tenant(), await factory.tenant()
    await heard_of_communities(feed, here, there)
    known = placing.KnownFacts.on(feed)
    for item_id, tenant in ((1, here), (2, there)):
        facts = placing.ItemFacts(
            community_id=tenant.community_id,
            name="酱油",
            points_price=10,
            active=True,
            per_resident_limit=None,
            pickup_days=7,
            store_account_id=99,
        )
        known.items.put(known.items.generation, item_id, facts)
    generation = known.items.generation
    await db.execute(
        text("INSERT INTO store_settings (community_id, pickup_days) VALUES (:c, 3)"),
        {"c": here.community_id},
    )
    await db.commit()
    await until(lambda: known.items.generation != generation)
    assert known.items.get(1) is None
    assert known.items.get(2) is not None


async def test_circle_settings_forget_their_communitys_offers_only(client, feed, factory, db):
    """The purchase path's offer facts carry their community's voucher days."""
    here, there = await factory.tenant(), await factory.tenant()
    await heard_of_communities(feed, here, there)
    known = vouchers.KnownOffers.on(feed)
    for offer_id, tenant in ((1, here), (2, there)):
        facts = vouchers.OfferFacts(
            community_id=tenant.community_id,
            organisation_id=1,
            name="理发",
            points_price=10,
            voucher_days=30,
            account_id=99,
        )
        known.offers.put(known.offers.generation, offer_id, facts)
    generation = known.offers.generation
    await db.execute(
        text("INSERT INTO circle_settings (community_id, voucher_days) VALUES (:c, 7)"),
        {"c": here.community_id},
    )
    await db.commit()
    await until(lambda: known.offers.generation != generation)
    assert known.offers.get(1) is None
    assert known.offers.get(2) is not None


async def test_a_community_moving_streets_forgets_those_streets_admins_only(client, feed, factory, db):
    """A street admin's actor lists their streets' communities."""
    here, there, elsewhere = await factory.tenant(), await factory.tenant(), await factory.tenant()
    await heard_of_communities(feed, here, there, elsewhere)
    actors = ActorCache(feed)
    now = clock.now()
    for digest, tenant in (("here", here), ("there", there), ("elsewhere", elsewhere)):
        admin = Actor(10**9 + tenant.street_id, "街道管理员", street_ids=frozenset({tenant.street_id}))
        actors.keep(actors.generation, digest, "token", now + timedelta(hours=1), now, admin)
    since = CLOCK.now
    move = text("UPDATE communities SET street_id = :s WHERE id = :c")
    await db.execute(move, {"s": there.street_id, "c": here.community_id})
    await db.commit()
    streets = [("communities", "street_id", str(t.street_id)) for t in (here, there)]
    await until(lambda: all(feed.heard_at(tag) > since for tag in streets))  # both streets named
    assert actors.actor("here", "token", now) is None
    assert actors.actor("there", "token", now) is None
    assert actors.actor("elsewhere", "token", now) is not None
    await db.execute(move, {"s": here.street_id, "c": here.community_id})
    await db.commit()


# ---------------------------------------------------------------- the triggers agree with the code

# Columns a cached statement reads that deliberately send no notification, and why.
UNWATCHED_COLUMNS = {
    # Touched once a minute per session; an actor is kept only until its next touch is due.
    ("auth_sessions", "last_seen_at"),
    # Moved by every order; the order statement checks the stock itself.
    ("store_items", "stock"),
}
# Tables a cached statement reads that no memo watches, and why.
UNWATCHED_TABLES = {
    # The order context: a resident's earlier orders and membership are read for this order and
    # not remembered; wallet and store account ids never change once made. The community's time
    # zone starts the monthly limit's month, read afresh by this statement and by the reservation.
    "store_orders",
    "memberships@order",
    "communities@order",
    "ledger_accounts",
    # The purchase context: likewise a resident's earlier vouchers and membership; the time zone
    # serves the general path's month only, which reads it afresh, and is not remembered.
    "circle_vouchers",
    "memberships@offer",
    "communities@offer",
    # Whether the offer's provider may act in its community (migration 0034's function) is read
    # for this purchase and not remembered: the one statement asks it again each time.
    "organisations@offer",
    "agreements@offer",
}


def _cached_statements() -> list[tuple[str, str, tuple[Watch, ...]]]:
    feed = ChangeFeed("postgresql+asyncpg://unused/unused")
    return [
        ("actor", accounts._ACTOR.text, ActorCache(feed).watches),
        ("event", EVENT_COLUMNS.text, event_row_memo(feed).watches),
        ("order", placing._ORDER_CONTEXT.text, placing.KnownFacts.on(feed).items.watches),
        ("offer", vouchers._CONTEXT.text, vouchers.KnownOffers.on(feed).offers.watches),
    ]


async def _columns_read(db, sql: str) -> dict[str, set[str]]:
    """The table columns a statement reads, as PostgreSQL resolves it (a view of it)."""
    without_parameters = re.sub(r"(?<!:):(?!:)[A-Za-z_]\w*|\$\d+", "NULL", sql)
    await db.execute(text(f"CREATE TEMP VIEW cached_read AS {without_parameters}"))
    rows = await db.execute(
        text(
            "SELECT table_name, column_name FROM information_schema.view_column_usage "
            "WHERE view_name = 'cached_read'"
        )
    )
    read: dict[str, set[str]] = {}
    for table, column in rows:
        read.setdefault(table, set()).add(column)
    await db.rollback()
    return read


async def _triggers(db) -> dict[str, dict[str, str]]:
    rows = await db.execute(
        text(
            "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE NOT t.tgisinternal AND p.proname LIKE 'jinlin_notify%'"
        )
    )
    found: dict[str, dict[str, str]] = {}
    for table, name, definition in rows:
        found.setdefault(table, {})[name.removeprefix(f"{table}_")] = definition
    return found


def _update_columns(definition: str) -> tuple[set[str], set[str]]:
    """The columns of a trigger's UPDATE OF list and of its WHEN clause."""
    update_of = re.search(r"AFTER UPDATE OF (.+?) ON ", definition)
    assert update_of, definition
    listed = {c.strip() for c in update_of.group(1).split(",")}
    compared = set()
    for old, new in re.findall(r"old\.(\w+)\b[^(]*?IS DISTINCT FROM \(*new\.(\w+)", definition):
        assert old == new, definition
        compared.add(old)
    return listed, compared


def _keys(definition: str) -> set[str]:
    call = re.search(r"jinlin_notify_row\((.*)\)", definition)
    assert call, definition
    return {k.strip().strip("'") for k in call.group(1).split(",") if k.strip()}


async def test_the_triggers_watch_what_the_cached_statements_read(db):
    """Each trigger's UPDATE OF list and WHEN clause name exactly the columns the cached
    statements read of its table (less the deliberate exceptions), and it carries the key
    column each memo watching the table needs."""
    triggers = await _triggers(db)
    expected: dict[str, set[str]] = {}
    for name, sql, watches in _cached_statements():
        read = await _columns_read(db, sql)
        by_table = {w.table: w for w in watches}
        assert set(by_table) <= set(read), (name, set(by_table) - set(read))
        for table, columns in read.items():
            if table not in by_table:
                assert table in UNWATCHED_TABLES or f"{table}@{name}" in UNWATCHED_TABLES, (name, table)
                continue
            mine = triggers.get(table, {})
            assert set(mine) == {"rows", "updated", "truncated"}, (table, mine)
            for kind in ("rows", "updated"):
                assert by_table[table].column in _keys(mine[kind]), (name, table, mine[kind])
            expected.setdefault(table, set()).update(
                c for c in columns if (table, c) not in UNWATCHED_COLUMNS
            )
    for table, columns in expected.items():
        mine = triggers[table]
        listed, compared = _update_columns(mine["updated"])
        assert listed == columns, (table, listed ^ columns)
        assert compared == columns, (table, compared ^ columns)
        assert "DELETE" in mine["rows"], mine["rows"]
        assert "FOR EACH STATEMENT" in mine["truncated"] and "TRUNCATE" in mine["truncated"]
    # No trigger tells of a table nobody remembers.
    assert set(triggers) == set(expected)


# ---------------------------------------------------------------- a lost listening connection


async def test_a_terminated_listener_makes_every_memo_forget_until_it_is_back(client, app, feed, factory, db):
    tenant = await factory.tenant()
    alice = await factory.person(tenant)
    names: Memo[int, str] = Memo(feed, ("users",))
    names.put(names.generation, alice.user_id, alice.display_name)
    actors = app.state["actors"]
    now = clock.now()
    actors.keep(
        actors.generation, "a digest", "token", now + timedelta(hours=1), now, Actor(alice.user_id, "x")
    )
    assert len(names) == 1 and len(actors) >= 1

    with refused_reconnections(feed):
        killed = await db.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": APPLICATION_NAME},
        )
        await db.commit()
        assert killed >= 1
        await until(lambda: not feed.live)
        assert len(names) == 0 and len(actors) == 0  # forgotten, not merely unused
        names.put(names.generation, alice.user_id, "不听的时候")  # nothing is kept while deaf
        assert len(names) == 0

    await until(lambda: feed.live, 10)  # back by itself
    names.put(names.generation, alice.user_id, alice.display_name)
    assert names.get(alice.user_id) == alice.display_name
    generation = names.generation
    await _rename(db, alice.user_id, "新名字")  # and it hears again
    await until(lambda: names.generation != generation)
    assert names.get(alice.user_id) is None


class SilentPath:
    """A TCP path to PostgreSQL that can go silent: bytes already in flight on the connections
    open at `cut()` are dropped without a word (no FIN, no RST), as when a NAT or a firewall
    forgets a connection; connections opened later pass."""

    def __init__(self, url: str) -> None:
        self.target = make_url(url)
        self.cut_before = 0
        self.opened = 0
        self.server: asyncio.Server | None = None
        self.url = ""

    async def __aenter__(self) -> SilentPath:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        query = {k: v for k, v in self.target.query.items() if k != "host"}
        self.url = self.target.set(host="127.0.0.1", port=port, query=query).render_as_string(
            hide_password=False
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.server is not None
        self.server.close()

    def cut(self) -> None:
        self.cut_before = self.opened

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.opened += 1
        number = self.opened
        host = self.target.host or self.target.query.get("host")
        port = self.target.port or 5432
        if isinstance(host, str) and host.startswith("/"):
            upstream = await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
        else:
            upstream = await asyncio.open_connection(host, port)

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await source.read(65536):
                    if number > self.cut_before:
                        sink.write(data)
                        await sink.drain()
            sink.close()

        await asyncio.gather(pump(reader, upstream[1]), pump(upstream[0], writer))


async def test_a_listener_gone_silent_is_noticed_and_replaced(client, database_url, factory, db):
    """No termination message ever comes: the periodic check finds the connection dead."""
    tenant = await factory.tenant()
    alice = await factory.person(tenant)
    async with SilentPath(database_url) as path:
        feed = ChangeFeed(path.url, ping_every=0.2, ping_timeout=0.5)
        names: Memo[int, str] = Memo(feed, ("users",))
        await feed.start()
        try:
            await until(lambda: feed.live, 10)
            sock = feed._connection._transport.get_extra_info("socket")
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
            names.put(names.generation, alice.user_id, alice.display_name)
            assert names.get(alice.user_id) == alice.display_name

            with refused_reconnections(feed):
                path.cut()
                await until(lambda: not feed.live, 3)
                assert len(names) == 0
            await until(lambda: feed.live, 10)  # a new connection on the path
            names.put(names.generation, alice.user_id, alice.display_name)
            generation = names.generation
            await _rename(db, alice.user_id, "新名字")
            await until(lambda: names.generation != generation)
            assert names.get(alice.user_id) is None
        finally:
            await feed.stop()


async def test_what_a_flush_waits_for_is_what_the_triggers_announce(db):
    """app.accounts.actor_cache.NOTIFYING (a change made through the ORM declares the wait for
    its notification) names the triggers' key columns, their UPDATE OF columns and whether a
    new row notifies."""
    triggers = await _triggers(db)
    for model, (table, key, on_insert, columns) in NOTIFYING.items():
        assert model.__tablename__ == table
        mine = triggers[table]
        assert key in _keys(mine["rows"]) and key in _keys(mine["updated"]), (table, key)
        assert set(columns) == _update_columns(mine["updated"])[0], table
        assert ("INSERT" in mine["rows"]) == on_insert, (table, mine["rows"])
