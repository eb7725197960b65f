"""Use cases of notices, in the caller's transaction (a page's session, a job's, or a hot path's
connection); nothing here commits.

`notify` is the one way in: every trigger calls it with a key naming the occasion
("event_reminder:<event>:<user>"), so a job that runs twice, or a retried request, tells a person
once. A kind the person turned off is not stored at all. A notice for a community with an enabled
webhook is queued for it in the same statement (app.notices.webhooks sends it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock
from app.core.errors import NotFound
from app.core.uow import Connection, Sql, json_param
from app.notices import words

_NOTIFY = Sql(
    "WITH made AS ("
    " INSERT INTO notices (user_id, community_id, kind, params, key, url, created_at)"
    " SELECT :u, CAST(:c AS bigint), CAST(:k AS varchar), CAST(:p AS jsonb), CAST(:key AS varchar),"
    " CAST(:url AS varchar), :now"
    " WHERE NOT EXISTS (SELECT 1 FROM notice_mutes WHERE user_id = :u AND kind = CAST(:k AS varchar))"
    " ON CONFLICT (key) DO NOTHING RETURNING id, community_id"
    "), queued AS ("
    " INSERT INTO notice_deliveries (community_id, notice_id, next_attempt_at, created_at)"
    " SELECT made.community_id, made.id, :now, :now FROM made"
    " JOIN notice_webhooks w ON w.community_id = made.community_id AND w.enabled"
    " RETURNING id"
    ") SELECT (SELECT id FROM made), (SELECT count(*) FROM queued)"
)
_UNREAD = Sql("SELECT count(*) FROM notices WHERE user_id = :u AND read_at IS NULL")
_INBOX = Sql(
    "SELECT id, community_id, kind, params, url, created_at, read_at FROM notices WHERE user_id = :u "
    "AND (CAST(:unread AS boolean) IS NOT TRUE OR read_at IS NULL) ORDER BY id DESC LIMIT :n OFFSET :o"
)
_COUNT = Sql("SELECT count(*) FROM notices WHERE user_id = :u")
_READ_ONE = Sql(
    "UPDATE notices SET read_at = COALESCE(read_at, :now) WHERE id = :id AND user_id = :u RETURNING id"
)
_READ_ALL = Sql("UPDATE notices SET read_at = :now WHERE user_id = :u AND read_at IS NULL")
_MUTES = Sql("SELECT kind FROM notice_mutes WHERE user_id = :u")
_UNMUTE_ALL = Sql("DELETE FROM notice_mutes WHERE user_id = :u")
_MUTE = Sql("INSERT INTO notice_mutes (user_id, kind) VALUES (:u, :k) ON CONFLICT DO NOTHING")

INBOX_SIZE = 100


async def notify(
    db: Connection | AsyncSession,
    *,
    user_id: int,
    kind: str,
    key: str,
    community_id: int | None = None,
    url: str = "",
    **params: Any,
) -> bool:
    """Tells `user_id` of something, once per `key`. True when a notice was made now (False: made
    before, or the person turned this kind off)."""
    row = await _NOTIFY.one(
        db,
        {
            "u": user_id,
            "c": community_id,
            "k": kind,
            "p": json_param(params),
            "key": key[:200],
            "url": url[:300],
            "now": clock.now(),
        },
    )
    return row[0] is not None


@dataclass(frozen=True)
class Line:
    """A notice as the reader sees it."""

    id: int
    kind: str
    title: str
    body: str
    url: str
    community_id: int | None
    created_at: datetime
    read: bool


async def unread_count(db: Connection | AsyncSession, user_id: int) -> int:
    return int(await _UNREAD.fetchval(db, {"u": user_id}) or 0)


async def count(db: Connection | AsyncSession, user_id: int) -> int:
    """How many notices the person has, read or not."""
    return int(await _COUNT.fetchval(db, {"u": user_id}) or 0)


async def inbox(
    db: Connection | AsyncSession,
    user_id: int,
    gettext: words.Gettext,
    *,
    unread_only: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[Line]:
    """The person's newest notices, INBOX_SIZE of them unless `limit` says otherwise, past the
    `offset` newest (the inbox page's pages)."""
    rows = await _INBOX.fetch(
        db, {"u": user_id, "unread": unread_only, "n": INBOX_SIZE if limit is None else limit, "o": offset}
    )
    lines = []
    for row in rows:
        title, body = words.render(row["kind"], row["params"], gettext)
        lines.append(
            Line(
                row["id"],
                row["kind"],
                title,
                body,
                row["url"],
                row["community_id"],
                row["created_at"],
                row["read_at"] is not None,
            )
        )
    return lines


async def mark_read(db: Connection | AsyncSession, user_id: int, notice_id: int | None) -> None:
    """One notice of this person read (another person's is not found), or all of theirs."""
    now = clock.now()
    if notice_id is None:
        await _READ_ALL.execute(db, {"u": user_id, "now": now})
    elif await _READ_ONE.fetchrow(db, {"id": notice_id, "u": user_id, "now": now}) is None:
        raise NotFound()


async def muted(db: Connection | AsyncSession, user_id: int) -> set[str]:
    return {row[0] for row in await _MUTES.fetch(db, {"u": user_id})}


async def choose(db: Connection | AsyncSession, user_id: int, wanted: set[str]) -> None:
    """The person gets the kinds in `wanted` and none of the other registered kinds."""
    await _UNMUTE_ALL.execute(db, {"u": user_id})
    for entry in words.kinds():
        if entry.name not in wanted:
            await _MUTE.execute(db, {"u": user_id, "k": entry.name})


def still_to_tell(user_id: str, kind: str, key: str) -> str:
    """SQL that holds while an occasion is still to be told: no notice has its key yet (`key`, an
    SQL expression) and the person (`user_id`, a column) has not turned `kind` off. A job that
    looks back over a window in bounded batches selects only these, so that occasions told
    before, or never to be told, do not fill every batch and leave the later ones untold."""
    if not kind.replace("_", "").isalnum():
        raise ValueError(kind)
    return (
        f"NOT EXISTS (SELECT 1 FROM notices told WHERE told.key = {key}) "  # noqa: S608
        f"AND NOT EXISTS (SELECT 1 FROM notice_mutes off WHERE off.user_id = {user_id} "
        f"AND off.kind = '{kind}')"
    )
