"""What a worker may remember between requests, and PostgreSQL telling it when to forget.

Row triggers (migration 0009) notify channel `jinlin_changes` with `table:column:value` whenever
a row that some worker may hold in memory changes: the table, and the value of each key column
the trigger names (a session's digest and user id, an event's id, an item's community id, ...).
Each worker listens on one connection of its own (`ChangeFeed`); a `Memo` watches some tables,
each by one key column (`Watch`), and forgets only the entries that depend on the row named. A
payload of a table's name alone (a TRUNCATE) forgets everything the memo holds of that table.

While the listening connection is down, no memo answers from memory, so what they return is
never staler than the moment PostgreSQL sent the notification. The feed checks its connection
with a cheap query every few seconds and with TCP keepalives, so that a connection lost without
a word (a dead network path) stops memory answering within `ping_every + ping_timeout`; on any
loss every memo forgets and the feed reconnects with backoff. The connection must reach
PostgreSQL directly (or through a pooler in session mode): LISTEN does not survive transaction
pooling, and then `max_age` is all that bounds what a worker remembers.

A lookup that raced with a change cannot store what it read: a memo's generation moves on every
notification it is told, each key it was told of keeps the generation it was told at, and `put`
drops a value read under an older one.

A change that must be in force on every worker when its response leaves (a logout, a role
revoked, an account deactivated) says so with `wait_for` on its database session; whoever
commits that session then awaits `ChangeFeed.heard` before answering: PostgreSQL signals every
listener at commit, so once this worker has heard the notification, the others have been told
too."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import asyncpg
from advanced_alchemy.extensions.litestar._utils import get_aa_scope_state
from litestar.types import Message, Scope
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core.uow import connect_arguments

CHANNEL = "jinlin_changes"
APPLICATION_NAME = "jinlin change feed"  # the listening connection in pg_stat_activity
RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)
# How often the listening connection is asked a cheap question, and how long it may take to
# answer before the connection counts as lost.
PING_EVERY = 5.0
PING_TIMEOUT = 5.0
# TCP keepalives on the listening connection (seconds idle, between probes, probes): the kernel
# gives up on a dead peer within about a minute even while nothing is being sent.
KEEPALIVE = (30, 10, 3)
# The longest a change waits for its notification before answering anyway.
HEARD_TIMEOUT = 2.0

log = logging.getLogger(__name__)

K = TypeVar("K")
V = TypeVar("V")

Tag = tuple[str, str, str]  # table, key column, the column's value as PostgreSQL prints it


@dataclass(frozen=True, slots=True)
class Watch:
    """A memo's interest in a table: notifications name rows of `table` by `column`, and `keys`
    gives the values of that column an entry depends on (by default the memo's own key: the
    memo is keyed by that column)."""

    table: str
    column: str = "id"
    keys: Callable[[Any, Any], Iterable[Hashable]] | None = None

    def tags(self, key: object, value: object) -> Iterable[Tag]:
        values = (key,) if self.keys is None else self.keys(key, value)
        return ((self.table, self.column, _text(v)) for v in values)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


class Memo(Generic[K, V]):
    """A worker's memory of rows of the tables it watches (`Watch`, or a table's name to watch
    it by `id` with the memo keyed by that id)."""

    # Keys told of that are kept to refuse a racing lookup's `put`; past this many, the oldest
    # go and lookups begun before them are refused wholesale.
    MARKS = 4_096

    def __init__(
        self,
        feed: ChangeFeed,
        tables: Iterable[str | Watch],
        max_entries: int = 20_000,
        max_age: float = 60.0,
    ) -> None:
        self.feed = feed
        self.watches = tuple(w if isinstance(w, Watch) else Watch(w) for w in tables)
        self.max_entries = max_entries
        # Belt and braces: were notifications ever lost without the connection dropping (a
        # pooler in transaction mode between the worker and PostgreSQL would do that), nothing
        # would be remembered for longer than this many seconds.
        self.max_age = max_age
        self.generation = 0
        self.hits = 0
        self.misses = 0
        self._entries: dict[K, tuple[V, float, tuple[Tag, ...]]] = {}
        self._holders: dict[Tag, set[K]] = {}
        self._marks: OrderedDict[Tag, int] = OrderedDict()
        self._floor = 0  # a lookup begun before this generation stores nothing
        feed.watch(self, self.watches)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: K, fresh: Callable[[V], bool] | None = None) -> V | None:
        """What memory holds for `key`, if the feed is live and `fresh` accepts it."""
        entry = self._entries.get(key) if self.feed.live else None
        value = None
        if entry is not None and time.monotonic() - entry[1] < self.max_age:
            value = entry[0]
            if fresh is not None and not fresh(value):
                value = None
        if value is None:
            self.misses += 1
        else:
            self.hits += 1
        return value

    def put(self, generation: int, key: K, value: V) -> None:
        """Stores what a lookup begun under `generation` found, unless a row it depends on
        changed since (or the memo cannot tell)."""
        if generation < self._floor or not self.feed.live:
            return
        tags = tuple(tag for watch in self.watches for tag in watch.tags(key, value))
        if any(self._marks.get(tag, 0) > generation for tag in tags):
            return
        self._drop(key)
        if len(self._entries) >= self.max_entries:
            self._clear()
        self._entries[key] = (value, time.monotonic(), tags)
        for tag in tags:
            self._holders.setdefault(tag, set()).add(key)

    def forget(self, tag: Tag) -> None:
        """A row of a watched table changed: forget the entries that depend on it."""
        self.generation += 1
        self._marks[tag] = self.generation
        self._marks.move_to_end(tag)
        while len(self._marks) > self.MARKS:
            _tag, told_at = self._marks.popitem(last=False)
            self._floor = max(self._floor, told_at)
        for key in self._holders.pop(tag, ()):
            self._drop(key)

    def forget_all(self) -> None:
        self.generation += 1
        self._floor = self.generation
        self._marks.clear()
        self._clear()

    def _drop(self, key: K) -> None:
        entry = self._entries.pop(key, None)
        if entry is None:
            return
        for tag in entry[2]:
            holders = self._holders.get(tag)
            if holders is not None:
                holders.discard(key)
                if not holders:
                    del self._holders[tag]

    def _clear(self) -> None:
        self._entries.clear()
        self._holders.clear()


class ChangeFeed:
    """The listening connection of one worker, opened at start-up and kept open."""

    # Notifications heard that a change may still be waiting for (`heard`).
    HEARD = 4_096

    def __init__(self, url: str, ping_every: float = PING_EVERY, ping_timeout: float = PING_TIMEOUT) -> None:
        self.url = url
        self.ping_every = ping_every
        self.ping_timeout = ping_timeout
        self._watchers: dict[tuple[str, str], list[Memo[Any, Any]]] = {}
        self._tables: dict[str, list[Memo[Any, Any]]] = {}
        self._heard: OrderedDict[Tag, int] = OrderedDict()
        self._news = asyncio.Event()
        self._connection: asyncpg.Connection | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._closing = False

    def watch(self, memo: Memo[Any, Any], tables: Iterable[str | Watch]) -> None:
        for item in tables:
            watch = item if isinstance(item, Watch) else Watch(item)
            self._watchers.setdefault((watch.table, watch.column), []).append(memo)
            if memo not in self._tables.setdefault(watch.table, []):
                self._tables[watch.table].append(memo)

    @property
    def live(self) -> bool:
        """True while the listening connection is up: only then may memory answer."""
        return self._connection is not None and not self._connection.is_closed()

    async def start(self) -> None:
        self._closing = False
        self._keeper = asyncio.create_task(self._keep_listening(), name="change-feed")

    async def stop(self) -> None:
        self._closing = True
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
            self._keeper = None
        await self._drop_connection()

    def forget_all(self) -> None:
        """Every memo of this feed forgets all it holds (as when the feed connects)."""
        self._forget_all()

    def heard_at(self, tag: Tag) -> int:
        """When (CLOCK's count) this worker last heard of the row named, 0 if not lately."""
        return self._heard.get(tag, 0)

    async def heard(self, waits: Iterable[tuple[Tag, int]]) -> None:
        """Returns once this worker has heard of each row named, later than the position given
        with it, or after `HEARD_TIMEOUT` seconds, or at once while it cannot hear at all."""
        pending = list(waits)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(HEARD_TIMEOUT):
                while self.live:
                    pending = [(tag, since) for tag, since in pending if self._heard.get(tag, 0) <= since]
                    if not pending:
                        return
                    await self._news.wait()
        if pending and self.live:
            log.warning("change feed: no notification of %s within %.1f s", pending, HEARD_TIMEOUT)

    async def _keep_listening(self) -> None:
        failures = 0  # since the last connection that answered a check: sets the backoff
        while not self._closing:
            if not self.live:
                if failures:
                    await asyncio.sleep(RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS)) - 1])
                failures += 1
                try:
                    await self._listen()
                except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("change feed: cannot listen (%s); retrying", exc)
                    await self._drop_connection()
                    continue
            lost = self._lost
            with contextlib.suppress(TimeoutError):  # a loss wakes this at once
                async with asyncio.timeout(self.ping_every):
                    await lost.wait()
            if await self._ping():
                failures = 0

    async def _listen(self) -> None:
        await self._drop_connection()
        connection = await asyncpg.connect(
            **connect_arguments(self.url), timeout=10, server_settings={"application_name": APPLICATION_NAME}
        )
        _keep_alive(connection)
        connection.add_termination_listener(self._on_lost)
        await connection.add_listener(CHANNEL, self._on_notify)
        self._forget_all()  # anything may have changed while nobody listened
        self._lost = asyncio.Event()
        self._connection = connection

    async def _ping(self) -> bool:
        """A connection that cannot answer a trivial query in time is as good as lost."""
        connection = self._connection
        if connection is None or connection.is_closed():
            return False
        try:
            await connection.fetchval("SELECT 1", timeout=self.ping_timeout)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("change feed: the listening connection did not answer (%r); reconnecting", exc)
            self._connection = None
            self._forget_all()
            connection.terminate()
            return False
        return True

    def _on_notify(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        heard_at = CLOCK.tick()
        table, _, rest = payload.partition(":")
        column, _, value = rest.partition(":")
        if not column:  # the whole table (a TRUNCATE, or an older trigger)
            for memo in self._tables.get(table, ()):
                memo.forget_all()
        else:
            tag = (table, column, value)
            for memo in self._watchers.get((table, column), ()):
                memo.forget(tag)
            # Heard once every memo has forgotten.
            self._heard[tag] = heard_at
            self._heard.move_to_end(tag)
            if len(self._heard) > self.HEARD:
                self._heard.popitem(last=False)
        news, self._news = self._news, asyncio.Event()
        news.set()

    def _on_lost(self, connection: object) -> None:
        if self._connection is not None and connection is not self._connection:
            return  # an earlier connection's news, come after its successor
        self._connection = None
        self._forget_all()
        self._lost.set()

    def _forget_all(self) -> None:
        for memos in self._tables.values():
            for memo in memos:
                memo.forget_all()
        news, self._news = self._news, asyncio.Event()
        news.set()

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        self._forget_all()
        if connection is not None and not connection.is_closed():
            try:
                await connection.close(timeout=5)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                connection.terminate()


def _keep_alive(connection: asyncpg.Connection) -> None:
    """TCP keepalives, so that the kernel notices a peer gone without a word (a Unix socket
    needs none)."""
    transport = connection._transport  # noqa: SLF001 - asyncpg offers no option for it
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    idle, interval, count = KEEPALIVE
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (("TCP_KEEPIDLE", idle), ("TCP_KEEPINTVL", interval), ("TCP_KEEPCNT", count)):
        if hasattr(socket, name):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
    if hasattr(socket, "TCP_USER_TIMEOUT"):  # unacknowledged data: give up after the same minute
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, (idle + interval * count) * 1000)


# ---------------------------------------------------------------- changes that wait to be heard


class _Clock:
    """Orders notifications heard against commits, for every feed of the process."""

    now = 0

    def tick(self) -> int:
        self.now += 1
        return self.now


CLOCK = _Clock()
_WAITS = "jinlin.changes.wait_for"
_STAMPED = "jinlin.changes.stamped"
_COMMITTED = "jinlin.changes.committed"


def wait_for(session: Any, table: str, column: str, value: object) -> None:
    """The response to this session's transaction must wait until this worker has heard that
    the row of `table` whose `column` is `value` changed (the triggers of migration 0009 name it
    so). `session` is a SQLAlchemy Session or AsyncSession; whoever commits it awaits
    `ChangeFeed.heard(committed_waits(session.info))` before answering (`hear_after_commit`).
    Say it only of a change that does send the notification, or the answer waits in vain."""
    info: dict[str, Any] = session.info
    info.setdefault(_WAITS, []).append((table, column, _text(value)))


def committed_waits(info: dict[str, Any]) -> list[tuple[Tag, int]]:
    """What a committed transaction said its response must wait for, taken out of its
    session's `info`."""
    return info.pop(_COMMITTED, None) or []


def hear_after_commit(
    feed: ChangeFeed, commit: Any, session_key: str
) -> Callable[[Message, Scope], Awaitable[None]]:
    """Advanced Alchemy's before-send handler (`commit`, which commits the request's session,
    kept in the scope under `session_key`, as the response starts), followed by waiting for
    what the transaction said it changed."""

    if not callable(commit):
        raise TypeError(f"a before-send handler is needed, not {commit!r}")

    async def before_send(message: Message, scope: Scope) -> None:
        starts = message["type"] == "http.response.start"
        # Advanced Alchemy's own handler finds the session so; it has no public name for it.
        session = get_aa_scope_state(scope, session_key) if starts else None
        await commit(message, scope)
        if session is not None and (waits := committed_waits(session.info)):
            await feed.heard(waits)

    return before_send


@event.listens_for(Session, "before_commit")
def _stamp(session: Session) -> None:
    # Before the commit's own flush, whose rows may add waits too: anything heard from here
    # on may be the commit's notification.
    session.info[_STAMPED] = CLOCK.now


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    since = session.info.pop(_STAMPED, CLOCK.now)
    waits = session.info.pop(_WAITS, None)
    if waits:
        session.info.setdefault(_COMMITTED, []).extend((tag, since) for tag in waits)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_WAITS, None)
    session.info.pop(_STAMPED, None)
