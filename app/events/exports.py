"""The events' exports (app.core.exports): hours per person, the data behind volunteer
certificates, counted as app.events.hours counts them (credited stays and approved claims)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.core import exports, figures
from app.core.figures import Scope
from app.core.i18n import lazy
from app.core.uow import Sql

# Each member of the community with certified minutes in the period (stays by their check-out, as
# the dashboards count them and their points are awarded; claims by the day worked), and all their
# certified minutes to the end of the period. Times: each event once (two stays at one event, out for
# lunch and back, are one time, as the attendance counts them) and each claim once.
_HOURS = Sql(
    "WITH done AS ("
    " SELECT c.user_id, c.minutes, c.checked_out_at >= :lo AS inside, 'e' || c.event_id AS what"
    " FROM event_checkins c"
    " WHERE c.community_id = :cid AND c.award_status IN ('awarded', 'zero') AND c.checked_out_at < :hi"
    " UNION ALL"
    " SELECT h.user_id, h.minutes, h.worked_on >= :first, 'h' || h.id FROM hour_claims h"
    " WHERE h.community_id = :cid AND h.status = 'approved' AND h.worked_on < :end_day"
    ") "
    "SELECT u.id, u.display_name, sum(d.minutes) FILTER (WHERE d.inside) AS period,"
    " sum(d.minutes) AS total, count(DISTINCT d.what) FILTER (WHERE d.inside) AS times "
    "FROM done d JOIN users u ON u.id = d.user_id "
    "GROUP BY u.id, u.display_name HAVING bool_or(d.inside) ORDER BY u.display_name, u.id"
)


@exports.export(
    "hours",
    lazy("Hours per person"),
    columns=(
        lazy("Number"),
        lazy("Name"),
        lazy("Hours in the period"),
        lazy("Times"),
        lazy("Hours to date"),
        lazy("Minutes in the period"),
        lazy("Minutes to date"),
    ),
    order=10,
    note=lazy(
        "Certified hours: credited stays at events and approved claims, as on the certificates. A stay "
        "counts in the period it ended in (its check-out, when its points are awarded), a claim on the "
        "day worked; times are each event with such a stay once and each claim, so they are not the "
        "dashboard's attendance, which counts people at the events that started in the period. Hours "
        "to one decimal, rounded down from each person's minutes; add up the minutes for a total, as "
        "the dashboard does."
    ),
)
async def hours_per_person(session: Any, scope: Scope) -> Sequence[Sequence[Any]]:
    rows = await _HOURS.fetch(
        session,
        {
            "cid": scope.community_id,
            "lo": scope.start,
            "hi": scope.end,
            "first": scope.first,
            "end_day": scope.end_day,
        },
    )
    return [
        (
            r["id"],
            r["display_name"],
            figures.hours(r["period"]),
            int(r["times"]),
            figures.hours(r["total"]),
            int(r["period"] or 0),
            int(r["total"] or 0),
        )
        for r in rows
    ]
