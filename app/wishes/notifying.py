"""What micro-wishes tell people through app.notices: the beneficiary hears that their wish is
published, taken up and delivered, and the claimant that it was delivered (a claim that goes back
to the pool is app.wishes.stale's). Each once: the notice's key names the claim, so a wish
claimed again is a new occasion. The kinds' words are registered here."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.i18n import lazy
from app.core.uow import Connection
from app.notices import services as notices
from app.notices import words

Db = AsyncSession | Connection


@words.kind("wish_published", lazy("My wishes published in the wish pool"), order=40)
def _published(params: dict[str, Any], gettext: words.Gettext) -> tuple[str, str]:
    return (
        gettext(lazy("Your wish is in the wish pool: %(title)s"), title=params["title"]),
        gettext(lazy("Neighbours and partner units can now take it up.")),
    )


@words.kind("wish_claimed", lazy("My wishes taken up"), order=41)
def _claimed(params: dict[str, Any], gettext: words.Gettext) -> tuple[str, str]:
    return (
        gettext(lazy("Your wish was taken up: %(title)s"), title=params["title"]),
        gettext(lazy("When it is brought to you, scan the helper's delivery code to confirm.")),
    )


@words.kind("wish_delivered", lazy("Wishes delivered"), order=42)
def _delivered(params: dict[str, Any], gettext: words.Gettext) -> tuple[str, str]:
    title = gettext(lazy("Wish come true: %(title)s"), title=params["title"])
    if params.get("side") == "claimant":
        if params.get("points"):
            return title, gettext(
                lazy("Thank you! %(points)d points are in your wallet."), points=params["points"]
            )
        return title, gettext(lazy("Thank you for making it come true."))
    return title, gettext(lazy("You can thank the helper on the wishes page."))


def _url(wish_id: int) -> str:
    return f"/wishes/{wish_id}"


async def published(db: Db, row: Any) -> None:
    await notices.notify(
        db,
        user_id=int(row["beneficiary_id"]),
        community_id=int(row["community_id"]),
        kind="wish_published",
        key=f"wish_published:{row['id']}",
        url=_url(int(row["id"])),
        title=row["title"],
    )


async def claimed(db: Db, row: Any, claimed_at: datetime) -> None:
    await notices.notify(
        db,
        user_id=int(row["beneficiary_id"]),
        community_id=int(row["community_id"]),
        kind="wish_claimed",
        key=f"wish_claimed:{row['id']}:{claimed_at.isoformat()}",
        url=_url(int(row["id"])),
        title=row["title"],
    )


async def delivered(db: Db, row: Any, claimant_id: int, points: int) -> None:
    cid = int(row["community_id"])
    for user_id, side in ((int(row["beneficiary_id"]), "beneficiary"), (claimant_id, "claimant")):
        await notices.notify(
            db,
            user_id=user_id,
            community_id=cid,
            kind="wish_delivered",
            key=f"wish_delivered:{row['id']}:{side}",
            url=_url(int(row["id"])),
            title=row["title"],
            side=side,
            points=points if side == "claimant" else 0,
        )
