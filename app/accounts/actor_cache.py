"""The actors of recent sessions, kept in each worker's memory (app.core.changes) so that a
request does not pay a query to learn who is asking.

It forgets everything when PostgreSQL says a session ended, a user was deactivated or renamed,
or a role changed. An entry is also good only until its session next needs its once-a-minute
`last_seen_at` touch, which goes through the database as before, so idle limits and expiry
behave exactly as without the cache."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core.authz import Actor
from app.core.changes import ChangeFeed, Memo

TOUCH_EVERY = timedelta(minutes=1)
# The tables an actor is read from (app.accounts.services._ACTOR).
TABLES = ("auth_sessions", "users", "memberships", "street_roles", "communities")


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: str
    expires_at: datetime
    touched_at: datetime
    actor: Actor


class ActorCache(Memo[str, _Entry]):
    def __init__(self, feed: ChangeFeed) -> None:
        super().__init__(feed, TABLES)

    def actor(self, digest: str, kind: str, now: datetime) -> Actor | None:
        def fresh(entry: _Entry) -> bool:
            return entry.kind == kind and now < entry.expires_at and now - entry.touched_at < TOUCH_EVERY

        entry = self.get(digest, fresh)
        return None if entry is None else entry.actor

    def keep(
        self,
        generation: int,
        digest: str,
        kind: str,
        expires_at: datetime,
        touched_at: datetime,
        actor: Actor,
    ) -> None:
        self.put(generation, digest, _Entry(kind, expires_at, touched_at, actor))
