"""The actors of recent sessions, kept in each worker's memory (app.core.changes) so that a
request does not pay a query to learn who is asking.

An entry is keyed by its session's token digest. It is forgotten when PostgreSQL says that
session ended or changed, that its user was deactivated or renamed, that the user's memberships
or street roles changed, or (for a street admin) that a community joined or left one of their
streets: every other entry stays. An entry is also good only until its session next needs its
once-a-minute `last_seen_at` touch, which goes through the database as before, so idle limits
and expiry behave exactly as without the cache.

A change of who may do what (logout, a role given or taken, an account deactivated) leaves its
response only once this worker has heard the notification: by then every worker has been told.
Changes made through the ORM say so by themselves (`_rights_in_flush`); a bulk DELETE or UPDATE
statement on these tables calls one of the functions below on its session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction

from app.accounts.models import AuthSession, Membership, StreetRole, User
from app.core.authz import Actor
from app.core.changes import ChangeFeed, Memo, Watch, wait_for

TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: str
    expires_at: datetime
    touched_at: datetime
    actor: Actor


def _user(_digest: str, entry: _Entry) -> tuple[int]:
    return (entry.actor.user_id,)


def _streets(_digest: str, entry: _Entry) -> frozenset[int]:
    return entry.actor.street_ids


# The rows an actor is read from (app.accounts.services._ACTOR), each by the column the
# notification names it by (migration 0009).
WATCHES = (
    Watch("auth_sessions", "digest"),
    Watch("users", "id", _user),
    Watch("memberships", "user_id", _user),
    Watch("street_roles", "user_id", _user),
    Watch("communities", "street_id", _streets),
)


class ActorCache(Memo[str, _Entry]):
    def __init__(self, feed: ChangeFeed) -> None:
        super().__init__(feed, WATCHES)

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


def session_ended(session: Any, digest: str) -> None:
    """The session of `digest` was deleted in `session`'s transaction: its response waits until
    every worker has been told."""
    wait_for(session, "auth_sessions", "digest", digest)


def sessions_ended(session: Any, user_id: int) -> None:
    """Every session of `user_id` was deleted (at least one existed)."""
    wait_for(session, "auth_sessions", "user_id", user_id)


# The ORM rows whose changes notify (migration 0009's triggers): the table's key column the
# response waits to hear of, whether a new row notifies, and the attributes whose change does.
NOTIFYING: dict[type, tuple[str, str, bool, tuple[str, ...]]] = {
    AuthSession: ("auth_sessions", "digest", False, ("digest", "user_id", "kind", "expires_at")),
    User: ("users", "id", False, ("id", "display_name", "is_active")),
    Membership: ("memberships", "user_id", True, ("user_id", "community_id", "roles", "moved_away_at")),
    StreetRole: ("street_roles", "user_id", True, ("user_id", "street_id", "role")),
}


@event.listens_for(Session, "after_flush")
def _rights_in_flush(session: Session, _flush: UOWTransaction) -> None:
    """Whatever path adds, removes or changes these rows through the ORM, its response waits
    for the notification."""
    for obj in session.new:
        kind = NOTIFYING.get(type(obj))
        if kind is not None and kind[2]:
            wait_for(session, kind[0], kind[1], getattr(obj, kind[1]))
    for obj in session.deleted:
        kind = NOTIFYING.get(type(obj))
        if kind is not None:
            wait_for(session, kind[0], kind[1], getattr(obj, kind[1]))
    for obj in session.dirty:
        kind = NOTIFYING.get(type(obj))
        if kind is not None and any(_changed(obj, name) for name in kind[3]):
            wait_for(session, kind[0], kind[1], getattr(obj, kind[1]))


def _changed(obj: object, name: str) -> bool:
    history = inspect(obj).attrs[name].history
    if not history.added:
        return False
    # An unloaded old value may equal the new one; the trigger compares, so wait only for a
    # known change.
    return bool(history.deleted) and list(history.added) != list(history.deleted)
