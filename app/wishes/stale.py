"""Stale claims: a claim not delivered within the community's number of days goes back to the
pool (a job, app.wishes.jobs), and both sides are told through app.notices: whoever claimed it,
and the person the wish is for. Each claim is told of once (the notice's key names the claim)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core import audit, clock
from app.core.i18n import lazy
from app.core.uow import Sql
from app.notices import services as notices
from app.notices import words
from app.wishes.access import DEFAULT_STALE_DAYS

KIND = "wish_released"


@words.kind(KIND, lazy("Wishes that went back to the pool"), order=42)
def _released(params: dict[str, Any], gettext: words.Gettext) -> tuple[str, str]:
    if params.get("side") == "claimant":
        return (
            gettext(lazy("A wish you took up went back to the pool: %(title)s"), title=params["title"]),
            gettext(
                lazy("It was not delivered within %(days)d days, so others may take it up now."),
                days=params["days"],
            ),
        )
    return (
        gettext(lazy("Your wish is back in the pool: %(title)s"), title=params["title"]),
        gettext(
            lazy("Whoever took it up did not deliver it within %(days)d days. It is open to others again."),
            days=params["days"],
        ),
    )


# Claims older than the community's number of days go back to the pool, a bounded batch a tick;
# what the claim was (who, since when) is returned to tell both sides.
_STALE = Sql(
    "WITH stale AS (SELECT w.id, w.claimed_by, w.claimed_at, "
    "COALESCE(s.stale_days, CAST(:days AS integer)) AS days FROM wishes w "
    "LEFT JOIN wish_settings s ON s.community_id = w.community_id "
    "WHERE w.status = 'claimed' AND w.claimed_at < CAST(:now AS timestamptz) "
    "- make_interval(days => COALESCE(s.stale_days, CAST(:days AS integer))) "
    "ORDER BY w.claimed_at LIMIT 500 FOR UPDATE OF w SKIP LOCKED) "
    "UPDATE wishes w SET status = 'published', claimed_by = NULL, claimed_organisation_id = NULL, "
    "claimed_at = NULL FROM stale WHERE w.id = stale.id "
    "RETURNING w.id, w.community_id, w.beneficiary_id, w.title, "
    "stale.claimed_by, stale.claimed_at, stale.days"
)


async def release_stale_claims(session: AsyncSession, now: datetime | None = None) -> list[int]:
    rows = await _STALE.fetch(session, {"now": now or clock.now(), "days": DEFAULT_STALE_DAYS})
    for row in rows:
        wish_id, community_id = int(row["id"]), int(row["community_id"])
        await audit.record(
            session,
            action="wish.release_stale",
            actor_id=None,
            community_id=community_id,
            target=f"wish:{wish_id}",
        )
        claim = f"{wish_id}:{row['claimed_at'].isoformat()}"
        sides = [("claimant", row["claimed_by"]), ("beneficiary", row["beneficiary_id"])]
        for side, user_id in sides:
            if user_id is None:
                continue
            await notices.notify(
                session,
                user_id=int(user_id),
                community_id=community_id,
                kind=KIND,
                key=f"{KIND}:{claim}:{side}",
                url=f"/wishes/{wish_id}",
                side=side,
                title=row["title"],
                days=int(row["days"]),
            )
    return [int(r["id"]) for r in rows]
