"""The wishes' export (app.core.exports): every wish made in the period, with where it stands
(its kind and status in the words of the wishes' pages)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core import exports
from app.core.figures import Scope
from app.core.i18n import lazy
from app.core.uow import Sql
from app.wishes.pages import ALL_STATUS_LABELS, KIND_LABELS

_WISHES = Sql(
    "SELECT w.id, w.title, w.kind, w.status, b.display_name AS beneficiary, c.display_name AS claimant,"
    " w.created_at AT TIME ZONE :tz AS created, w.delivered_at AT TIME ZONE :tz AS delivered, w.points_paid "
    "FROM wishes w JOIN users b ON b.id = w.beneficiary_id LEFT JOIN users c ON c.id = w.claimed_by "
    "WHERE w.community_id = :cid AND w.created_at >= :lo AND w.created_at < :hi ORDER BY w.created_at, w.id"
)


@exports.export(
    "wishes",
    lazy("Wishes"),
    columns=(
        lazy("Number"),
        lazy("Wish"),
        exports.column(lazy("Kind"), words=KIND_LABELS),
        exports.column(lazy("Status"), words=ALL_STATUS_LABELS),
        # Whom a wish is for: its pages name them only to the community's staff and admins
        # (API.md), so of the exports page's readers only the admin's file has the column.
        exports.column(lazy("For"), contact=True),
        lazy("Claimed by"),
        lazy("Made"),
        lazy("Delivered"),
        lazy("Points paid"),
    ),
    order=30,
    note=lazy("Every wish made in the period; times in the community's time zone."),
    contacts=("admin",),
)
async def wishes(session: Any, scope: Scope) -> Sequence[Sequence[Any]]:
    rows = await _WISHES.fetch(
        session, {"cid": scope.community_id, "lo": scope.start, "hi": scope.end, "tz": scope.time_zone}
    )
    return [
        (
            r["id"],
            r["title"],
            r["kind"],
            r["status"],
            r["beneficiary"],
            r["claimant"] or "",
            r["created"],
            r["delivered"],
            int(r["points_paid"]),
        )
        for r in rows
    ]
