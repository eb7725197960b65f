"""The partners' exports (app.core.exports): the three lists (resources, needs, projects) as they
stand, and the progress of every agreement of the period's year, counted as its page counts it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import exports
from app.core.figures import Scope
from app.core.i18n import lazy
from app.core.uow import Sql
from app.partners.agreements import progress_of
from app.partners.forms import CATEGORY_LABELS, STATUS_LABELS
from app.partners.models import Agreement, Organisation
from app.partners.progress import COMMITMENTS

_RESOURCES = Sql(
    "SELECT r.id, r.title, r.category, o.name AS unit, r.created_at AT TIME ZONE :tz AS made "
    "FROM resources r LEFT JOIN organisations o ON o.id = r.organisation_id "
    "WHERE r.community_id = :cid ORDER BY r.id"
)
_NEEDS = Sql(
    "SELECT n.id, n.title, n.category, n.created_at AT TIME ZONE :tz AS made FROM needs n "
    "WHERE n.community_id = :cid ORDER BY n.id"
)
_PROJECTS = Sql(
    "SELECT p.id, p.title, p.status, p.due_on, u.display_name AS owner,"
    " (SELECT count(*) FROM project_needs x WHERE x.project_id = p.id) AS needs,"
    " (SELECT count(*) FROM project_resources x WHERE x.project_id = p.id) AS resources "
    "FROM projects p JOIN users u ON u.id = p.owner_user_id WHERE p.community_id = :cid ORDER BY p.id"
)


def _params(scope: Scope) -> dict[str, Any]:
    return {"cid": scope.community_id, "tz": scope.time_zone}


@exports.export(
    "resources",
    lazy("Resources list"),
    columns=(
        lazy("Number"),
        lazy("Title"),
        exports.column(lazy("Category"), words=CATEGORY_LABELS),
        lazy("Partner unit"),
        lazy("Added"),
    ),
    order=40,
    dated=False,
)
async def resources(session: Any, scope: Scope) -> Sequence[Sequence[Any]]:
    rows = await _RESOURCES.fetch(session, _params(scope))
    return [(r["id"], r["title"], r["category"], r["unit"] or "", r["made"]) for r in rows]


@exports.export(
    "needs",
    lazy("Needs list"),
    columns=(
        lazy("Number"),
        lazy("Title"),
        exports.column(lazy("Category"), words=CATEGORY_LABELS),
        lazy("Added"),
    ),
    order=41,
    dated=False,
)
async def needs(session: Any, scope: Scope) -> Sequence[Sequence[Any]]:
    rows = await _NEEDS.fetch(session, _params(scope))
    return [(r["id"], r["title"], r["category"], r["made"]) for r in rows]


@exports.export(
    "projects",
    lazy("Projects list"),
    columns=(
        lazy("Number"),
        lazy("Title"),
        exports.column(lazy("Status"), words=STATUS_LABELS),
        lazy("Due"),
        lazy("Owner"),
        lazy("Needs linked"),
        lazy("Resources linked"),
    ),
    order=42,
    dated=False,
)
async def projects(session: Any, scope: Scope) -> Sequence[Sequence[Any]]:
    rows = await _PROJECTS.fetch(session, _params(scope))
    return [
        (r["id"], r["title"], r["status"], r["due_on"], r["owner"], int(r["needs"]), int(r["resources"]))
        for r in rows
    ]


@exports.export(
    "agreements",
    lazy("Partner agreement progress"),
    columns=(
        lazy("Partner unit"),
        lazy("Year"),
        lazy("Wishes done"),
        lazy("Wishes promised"),
        lazy("Volunteer hours done"),
        lazy("Volunteer hours promised"),
        lazy("Resources done"),
        lazy("Resources promised"),
        lazy("Projects done"),
        lazy("Projects promised"),
    ),
    order=50,
    note=lazy("The agreements of the year the period ends in, counted as on their pages."),
)
async def agreements(session: AsyncSession, scope: Scope) -> Sequence[Sequence[Any]]:
    found = (
        await session.execute(
            select(Agreement, Organisation.name)
            .join(Organisation, Organisation.id == Agreement.organisation_id)
            .where(Agreement.community_id == scope.community_id, Agreement.year == scope.last.year)
            .order_by(Organisation.name, Agreement.id)
        )
    ).all()
    out = []
    for agreement, name in found:
        done = await progress_of(session, agreement)
        row: list[Any] = [name, agreement.year]
        for part in COMMITMENTS:
            row += [done.get(part, 0), int(getattr(agreement, part))]
        out.append(row)
    return out
