"""The actors of recent sessions, kept in each worker's memory so that a request does not pay a
query to learn who is asking.

Correctness comes from PostgreSQL, not from timeouts: triggers (migration 0005) notify channel
`jinlin_actors` whenever a session ends or a user's rights change, and every worker listens on a
connection of its own and forgets everything it holds when told. While that connection is down,
nothing is served from memory. An entry is also good only until its session next needs its
once-a-minute `last_seen_at` touch, which goes through the database as before, so idle limits
and expiry behave exactly as without the cache.

A lookup that raced with a change cannot store what it read: the generation counter moves on
every notification, and a result read under an older generation is dropped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from app.core.authz import Actor
from app.core.fastdb import connect_arguments

CHANNEL = "jinlin_actors"
TOUCH_EVERY = timedelta(minutes=1)
MAX_ENTRIES = 20_000
RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: str
    expires_at: datetime
    touched_at: datetime
    actor: Actor


class ActorCache:
    def __init__(self, url: str) -> None:
        self.url = url
        self.generation = 0
        self.hits = 0
        self.misses = 0
        self._entries: dict[str, _Entry] = {}
        self._connection: asyncpg.Connection | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._closing = False
        self._told = asyncio.Event()

    @property
    def live(self) -> bool:
        """True while the listening connection is up: only then may memory answer."""
        return self._connection is not None and not self._connection.is_closed()

    def get(self, digest: str, kind: str, now: datetime) -> Actor | None:
        entry = self._entries.get(digest) if self.live else None
        if (
            entry is None
            or entry.kind != kind
            or now >= entry.expires_at
            or now - entry.touched_at >= TOUCH_EVERY
        ):
            self.misses += 1
            return None
        self.hits += 1
        return entry.actor

    def put(
        self,
        generation: int,
        digest: str,
        kind: str,
        expires_at: datetime,
        touched_at: datetime,
        actor: Actor,
    ) -> None:
        """Stores what a lookup begun under `generation` found, unless something changed since."""
        if generation != self.generation or not self.live:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[digest] = _Entry(kind, expires_at, touched_at, actor)

    def forget_all(self) -> None:
        self.generation += 1
        self._entries.clear()
        told, self._told = self._told, asyncio.Event()
        told.set()

    async def told_since(self, generation: int) -> None:
        """Waits (two seconds at most) until a notification newer than `generation` has come in.
        PostgreSQL signals every listener at commit, so once this worker has heard of a change
        the others have been told too: a logout answers only then, and the next request of that
        browser is refused on every worker."""
        if self.generation != generation or not self.live:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await self._told.wait()

    # ------------------------------------------------------------ the listening connection

    async def start(self) -> None:
        self._closing = False
        self._keeper = asyncio.create_task(self._keep_listening(), name="actor-cache-listener")

    async def stop(self) -> None:
        self._closing = True
        if self._keeper is not None:
            self._keeper.cancel()
            try:
                await self._keeper
            except asyncio.CancelledError:
                pass
            self._keeper = None
        await self._drop_connection()

    async def _keep_listening(self) -> None:
        attempt = 0
        while not self._closing:
            if not self.live:
                try:
                    await self._listen()
                    attempt = 0
                except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                    delay = RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)]
                    attempt += 1
                    log.warning("actor cache: cannot listen (%s); retrying in %.1f s", exc, delay)
                    await asyncio.sleep(delay)
                    continue
            await asyncio.sleep(0.5)

    async def _listen(self) -> None:
        await self._drop_connection()
        connection = await asyncpg.connect(**connect_arguments(self.url), timeout=10)
        connection.add_termination_listener(self._on_lost)
        await connection.add_listener(CHANNEL, self._on_notify)
        # Anything may have changed while nobody listened.
        self.forget_all()
        self._connection = connection

    def _on_notify(self, *_: object) -> None:
        self.forget_all()

    def _on_lost(self, *_: object) -> None:
        self._connection = None
        self.forget_all()

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        self.forget_all()
        if connection is not None and not connection.is_closed():
            await connection.close(timeout=5)
