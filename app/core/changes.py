"""What a worker may remember between requests, and PostgreSQL telling it when to forget.

Triggers (migration 0005) notify channel `jinlin_changes` with the table's name whenever a row
that some worker may hold in memory changes. Each worker listens on one connection of its own
(`ChangeFeed`); every `Memo` watches some tables and forgets everything it holds when one of them
changes. While the listening connection is down, no memo answers from memory, so what they
return is never staler than the moment PostgreSQL sent the notification. The connection must
reach PostgreSQL directly (or through a pooler in session mode): LISTEN does not survive
transaction pooling, and then `max_age` is all that bounds what a worker remembers.

A lookup that raced with a change cannot store what it read: a memo's generation moves on every
notification, and `put` drops a value read under an older one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

import asyncpg

from app.core.fastdb import connect_arguments

CHANNEL = "jinlin_changes"
RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)

log = logging.getLogger(__name__)

K = TypeVar("K")
V = TypeVar("V")


class Memo(Generic[K, V]):
    """A worker's memory of rows of the `tables` it watches."""

    def __init__(
        self, feed: ChangeFeed, tables: Iterable[str], max_entries: int = 20_000, max_age: float = 60.0
    ) -> None:
        self.feed = feed
        self.max_entries = max_entries
        # Belt and braces: were notifications ever lost without the connection dropping (a
        # pooler in transaction mode between the worker and PostgreSQL would do that), nothing
        # would be remembered for longer than this many seconds.
        self.max_age = max_age
        self.generation = 0
        self.hits = 0
        self.misses = 0
        self._entries: dict[K, tuple[V, float]] = {}
        self._told = asyncio.Event()
        feed.watch(self, tables)

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
        """Stores what a lookup begun under `generation` found, unless something changed since."""
        if generation != self.generation or not self.feed.live:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (value, time.monotonic())

    def forget_all(self) -> None:
        self.generation += 1
        self._entries.clear()
        told, self._told = self._told, asyncio.Event()
        told.set()

    async def told_since(self, generation: int) -> None:
        """Waits (two seconds at most) until a notification newer than `generation` has come in.
        PostgreSQL signals every listener at commit, so once this worker has heard of a change,
        the other workers have been told too."""
        if self.generation != generation or not self.feed.live:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await self._told.wait()


class ChangeFeed:
    """The listening connection of one worker, opened at start-up and kept open."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._watchers: dict[str, list[Memo[object, object]]] = {}
        self._connection: asyncpg.Connection | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._closing = False

    def watch(self, memo: Memo[K, V], tables: Iterable[str]) -> None:
        for table in tables:
            self._watchers.setdefault(table, []).append(memo)  # type: ignore[arg-type]

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

    async def _keep_listening(self) -> None:
        attempt = 0
        while not self._closing:
            if not self.live:
                try:
                    await self._listen()
                    attempt = 0
                except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
                    delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
                    attempt += 1
                    log.warning("change feed: cannot listen (%s); retrying in %.1f s", exc, delay)
                    await asyncio.sleep(delay)
                    continue
            await asyncio.sleep(0.5)

    async def _listen(self) -> None:
        await self._drop_connection()
        connection = await asyncpg.connect(**connect_arguments(self.url), timeout=10)
        connection.add_termination_listener(self._on_lost)
        await connection.add_listener(CHANNEL, self._on_notify)
        self._forget_all()  # anything may have changed while nobody listened
        self._connection = connection

    def _on_notify(self, _connection: object, _pid: int, _channel: str, table: str) -> None:
        for memo in self._watchers.get(table, ()):
            memo.forget_all()

    def _on_lost(self, *_: object) -> None:
        self._connection = None
        self._forget_all()

    def _forget_all(self) -> None:
        for memos in self._watchers.values():
            for memo in memos:
                memo.forget_all()

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        self._forget_all()
        if connection is not None and not connection.is_closed():
            await connection.close(timeout=5)
