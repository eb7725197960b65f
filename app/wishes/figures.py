"""Micro-wishes' figures for the dashboards (app.core.figures): the wishes posted in a range by
where each stands now, and the wishes that came true in the range."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core import figures
from app.core.figures import SCOPES, Scope, scope_arrays
from app.core.i18n import lazy
from app.core.uow import Sql

STATUS_LABELS = {
    "submitted": lazy("Waiting for review"),
    "published": lazy("Waiting for someone"),
    "claimed": lazy("Taken up"),
    "delivered": lazy("Come true"),
    "rejected": lazy("Not published"),
}

_BY_STATUS = Sql(
    "SELECT s.cid, w.status, count(*) AS wishes "  # noqa: S608
    f"FROM {SCOPES} "
    "JOIN wishes w ON w.community_id = s.cid AND w.created_at >= s.lo AND w.created_at < s.hi "
    "GROUP BY s.cid, w.status"
)
_DELIVERED = Sql(
    "SELECT s.cid, count(*) AS wishes "  # noqa: S608
    f"FROM {SCOPES} "
    "JOIN wishes w ON w.community_id = s.cid AND w.status = 'delivered' "
    "AND w.delivered_at >= s.lo AND w.delivered_at < s.hi "
    "GROUP BY s.cid"
)


@figures.figure(
    "wishes",
    lazy("Wishes posted in the period, by status now"),
    kind="breakdown",
    keys=STATUS_LABELS,
    order=40,
    note=lazy("Wishes posted in the period, by where each stands now."),
)
async def wishes(session: Any, scopes: Sequence[Scope]) -> dict[int, dict[str, int]]:
    found: dict[int, dict[str, int]] = {}
    for row in await _BY_STATUS.fetch(session, scope_arrays(scopes)):
        found.setdefault(int(row["cid"]), {})[row["status"]] = int(row["wishes"])
    return found


# Two counts of wishes come true, named apart: the breakdown's "come true" are wishes posted in
# the period that have come true since; this one, the wishes that came true in the period,
# whenever they were posted (the two read "已圆梦" and "已圆梦心愿" side by side).
@figures.figure(
    "wishes_delivered",
    lazy("Wishes come true in period"),
    unit=lazy("wishes"),
    order=41,
    note=lazy("Wishes whose delivery was confirmed in the period, whenever they were posted."),
)
async def wishes_delivered(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    rows = await _DELIVERED.fetch(session, scope_arrays(scopes))
    return {int(row["cid"]): int(row["wishes"]) for row in rows}
