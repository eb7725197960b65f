"""The partners' figures for the dashboards (app.core.figures): the resource, need and project
lists filled in a range, the projects done, and partner units ranked by their agreement's progress.

The ranking is of the agreements for the year the range ends in, with the progress of that whole
year (as the agreement page counts it): a unit's score is the mean of its commitments' shares
(each capped at 100%), over the commitments it made."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from sqlalchemy import select

from app.core import figures
from app.core.figures import SCOPES, Ranked, Scope, scope_arrays
from app.core.i18n import lazy
from app.core.progress import percent_of as progress_percent_of
from app.core.uow import Sql
from app.partners import progress, rules
from app.partners.agreements import progress_of
from app.partners.models import Agreement, Organisation

# The ranking's columns read "done / promised": the hours' column names its unit (whole hours, as
# an agreement promises them), the others are counts of things.
COMMITMENT_LABELS = {
    "wishes": lazy("Wishes delivered"),
    "volunteer_hours": lazy("Volunteer hours (hours)"),
    "resources": lazy("Resources listed"),
    "projects": lazy("Projects joined"),
}

_LISTS = Sql(
    "SELECT s.cid, "  # noqa: S608
    "(SELECT count(*) FROM resources r WHERE r.community_id = s.cid "
    "  AND r.created_at >= s.lo AND r.created_at < s.hi) AS resources, "
    "(SELECT count(*) FROM needs n WHERE n.community_id = s.cid "
    "  AND n.created_at >= s.lo AND n.created_at < s.hi) AS needs, "
    "(SELECT count(*) FROM projects p WHERE p.community_id = s.cid "
    "  AND p.created_at >= s.lo AND p.created_at < s.hi) AS projects, "
    "(SELECT count(DISTINCT p.id) FROM projects p JOIN project_steps ps ON ps.project_id = p.id "
    "  WHERE p.community_id = s.cid AND ps.status = 'done' "
    "  AND ps.created_at >= s.lo AND ps.created_at < s.hi) AS projects_done "
    f"FROM {SCOPES}"
)


async def _lists(session: Any, scopes: Sequence[Scope], column: str) -> dict[int, int]:
    rows = await figures.shared("partners.lists", scopes, lambda: _LISTS.fetch(session, scope_arrays(scopes)))
    return {int(row["cid"]): int(row[column]) for row in rows}


@figures.figure("resources", lazy("Resources listed"), unit=lazy("resources"), order=50)
async def resources(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    return await _lists(session, scopes, "resources")


@figures.figure("needs", lazy("Needs listed"), unit=lazy("needs"), order=51)
async def needs(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    return await _lists(session, scopes, "needs")


@figures.figure("projects", lazy("Projects started"), unit=lazy("projects"), order=52)
async def projects(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    return await _lists(session, scopes, "projects")


@figures.figure("projects_done", lazy("Projects done"), unit=lazy("projects"), order=53)
async def projects_done(session: Any, scopes: Sequence[Scope]) -> dict[int, int]:
    return await _lists(session, scopes, "projects_done")


def overall_percent(shares: Sequence[rules.Share]) -> int:
    """The mean share of the commitments a unit made, taken exactly and then rounded to the
    nearest; 0 when it promised nothing."""
    made = [share.part for share in shares if share.promised > 0]
    return progress_percent_of(sum(made, Fraction(0)), len(made))


@figures.figure(
    "partner_ranking",
    lazy("Partner units by agreement progress"),
    kind="ranking",
    keys=COMMITMENT_LABELS,
    order=55,
    note=lazy("Agreements for the year the period ends in, with that whole year's progress."),
)
async def partner_ranking(session: Any, scopes: Sequence[Scope]) -> dict[int, list[Ranked]]:
    found: dict[int, list[Ranked]] = {}
    for scope in scopes:
        rows = (
            await session.execute(
                select(Agreement, Organisation.name)
                .join(Organisation, Organisation.id == Agreement.organisation_id)
                .where(Agreement.community_id == scope.community_id, Agreement.year == scope.last.year)
                .order_by(Agreement.id)
            )
        ).all()
        ranked = []
        for agreement, name in rows:
            done = await progress_of(session, agreement)
            parts = {c: (int(done[c]), int(getattr(agreement, c))) for c in progress.COMMITMENTS}
            score = overall_percent([rules.Share(d, p) for d, p in parts.values()])
            ranked.append(Ranked(agreement.organisation_id, name, score, parts))
        found[scope.community_id] = sorted(ranked, key=lambda r: (-r.percent, r.name))
    return found
