"""The dashboards (per community for its admins, per street for the street admin, who drills down
into each community read-only) and the printable twice-monthly indicator report (每月两调度).
Every figure comes from app.reports.services, as the stats API's do."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from litestar import Request, Response, get
from litestar.params import QueryParameter
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import clock, homes, photos
from app.core.authz import Actor
from app.core.errors import Invalid
from app.core.i18n import gettext_for
from app.core.settings import Settings
from app.core.web import error_message, render
from app.places.models import Community
from app.places.services import community_for
from app.reports import charts, rules, services, stories
from app.reports import home as _home  # noqa: F401 - registers its share of the home page

From = Annotated[str | None, QueryParameter(name="from")]
To = Annotated[str | None, QueryParameter(name="to")]


def _period(
    request: Request, first: str | None, last: str | None, today: date
) -> tuple[date, date, str | None]:
    """The period asked for; a bad one is said next to the form, and this month is shown."""
    try:
        return (*rules.period(first, last, today), None)
    except Invalid as exc:
        return (*rules.period(None, None, today), error_message(request, exc))


def _quick(today: date) -> dict[str, tuple[date, date]]:
    """The periods offered as links beside the form."""
    previous_end = today.replace(day=1) - timedelta(days=1)
    return {
        "half": rules.half_month(today),
        "month": (today.replace(day=1), today),
        "last_month": (previous_end.replace(day=1), previous_end),
        "year": (today.replace(month=1, day=1), today),
    }


@get("/admin/c/{community_id:int}/dashboard", include_in_schema=False)
async def community_dashboard(
    request: Request,
    community_id: int,
    actor: Actor,
    report_session: AsyncSession,
    first: From = None,
    last: To = None,
) -> Template:
    community = await community_for(report_session, actor, community_id, *services.READERS)
    today = clock.today(community.time_zone)
    first_day, last_day, error = _period(request, first, last, today)
    row = (await services.figures_of(report_session, [community], first_day, last_day))[0]
    shown = services.shown()
    _ = gettext_for(request)
    return render(
        request,
        "reports/dashboard.html",
        status_code=422 if error else 200,
        community=community,
        row=row,
        counts=[f for f in shown if f.kind == "count"],
        charts=charts.community_charts(row, shown, _, until=today),
        number=charts.number,
        error=error,
        read_only=not actor.has(community_id, "admin"),
        street_id=community.street_id if community.street_id in actor.street_ids else None,
        quick=_quick(today),
    )


@get("/street/{street_id:int}/dashboard", include_in_schema=False)
async def street_dashboard(
    request: Request,
    street_id: int,
    actor: Actor,
    report_session: AsyncSession,
    first: From = None,
    last: To = None,
) -> Template:
    street, communities = await services.street_of(report_session, actor, street_id)
    today = services.street_today(communities)
    first_day, last_day, error = _period(request, first, last, today)
    rows = await services.figures_of(report_session, communities, first_day, last_day)
    shown = services.shown()
    _ = gettext_for(request)
    counts = [f for f in shown if f.kind == "count"]
    return render(
        request,
        "reports/street.html",
        status_code=422 if error else 200,
        street=street,
        rows=rows,
        first=first_day,
        last=last_day,
        counts=counts,
        totals=await services.street_total(report_session, rows),
        charts=charts.street_charts(rows, shown, _, until=today),
        ranking=[
            charts.ranking_chart(f, services.total(rows)[f.name], _) for f in shown if f.kind == "ranking"
        ],
        number=charts.number,
        error=error,
        quick=_quick(today),
    )


@get("/admin/c/{community_id:int}/indicators", include_in_schema=False)
async def indicator_report(
    request: Request,
    community_id: int,
    actor: Actor,
    report_session: AsyncSession,
    first: From = None,
    last: To = None,
) -> Template:
    """The twice-monthly review's sheet: this half of the month (or the period asked for) beside
    the period before it, for print."""
    community: Community = await community_for(report_session, actor, community_id, *services.READERS)
    today = clock.today(community.time_zone)
    error = None
    if first is None and last is None:
        first_day, last_day = rules.half_month(today)
    else:
        first_day, last_day, error = _period(request, first, last, today)
    before = rules.period_before(first_day, last_day)
    now = await services.figures_of(report_session, [community], first_day, last_day)
    then = await services.figures_of(report_session, [community], *before)
    shown = services.shown()
    _ = gettext_for(request)
    return render(
        request,
        "reports/indicators.html",
        status_code=422 if error else 200,
        community=community,
        row=now[0],
        before=then[0],
        counts=[f for f in shown if f.kind == "count"],
        charts=charts.community_charts(now[0], shown, _, until=today),
        number=charts.number,
        error=error,
        previous=rules.previous_half(first_day),
        following=rules.next_half(last_day),
        printed=clock.text(clock.now(), community.time_zone),
    )


# ---------------------------------------------------------------- the public results wall


@get("/c/{community_id:int}/wall", include_in_schema=False)
async def wall(request: Request, community_id: int, report_session: AsyncSession) -> Template:
    """成果晾晒: open without a login; counts and partner units' names, never a resident's."""
    found = await stories.wall_of(report_session, community_id)
    return render(
        request,
        "reports/wall.html",
        community=found.community,
        stories=found.stories,
        totals=found.totals,
        thanked=found.thanked,
        sections=found.sections,
        photo_url=stories.photo_url,
        number=charts.number,
        public_pages=homes.other_public_pages(community_id, request.url.path),
    )


@get("/c/{community_id:int}/wall/photos/{story_id:int}", include_in_schema=False)
async def wall_photo(
    community_id: int, story_id: int, maybe_actor: Actor | None, db_session: AsyncSession, settings: Settings
) -> Response[bytes]:
    """A story's photo: anyone's while the story is on the wall, its admins' while it is hidden."""
    admin = maybe_actor is not None and maybe_actor.has(community_id, "admin")
    story = await stories.photo_of(db_session, community_id, story_id, hidden_too=admin)
    assert story.photo is not None
    path = photos.path_of(settings.uploads_dir, stories.FOLDER, story.photo)
    return photos.serve(path, photos.content_type_of(story.photo))


route_handlers = [community_dashboard, street_dashboard, indicator_report, wall, wall_photo]
